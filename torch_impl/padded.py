"""``padded_step`` with torch autograd: a padded stack of networks of many architectures in one
call (``reference/padded.py`` states the padding and the result).

The graph is ``torch_impl/backprop.py``'s, with every choice an architecture makes taken per
network: each activation is computed and each network's own kept (``torch.where``), each loss
is torch.nn's function on the networks that use it, and, unless every network follows
``exact``, every slot is a ``_RuledDense`` whose backward sends the network's rule's error to
its input (the chain rule, autograd's own, under ``exact``; below a network's first layer that
error is computed and discarded, where ``torch_impl/backprop.py`` has a plain layer). Nothing
is differentiated by hand. A gradient-descent update is ``p − η·g`` in one operation,
``torch.addcmul(p, η, g, value=−1)``, as ``torch.optim.SGD`` makes it in one,
``p.add_(g, alpha=−η)``; it is written out because the learning rate differs per network.
"""

from __future__ import annotations

import torch

from reference.padded import LOSS_FORMS, Padded, in_order
from reference.types import ACTIVATIONS, RULES, Gradients, Layer, StackedStep
from torch_impl import activations, losses


def _product(a_prev, weights):
    """a_prev Wᵀ for every network. For one sample (online) it is written as a broadcast product
    and a sum, so that autograd's weight gradient is a broadcast product too: as ``bmm`` it is
    an outer product of (16, 1) by (1, 16) matrices, which PyTorch computes 5 times slower."""
    if a_prev.shape[-2] == 1:
        return (weights * a_prev).sum(-1).unsqueeze(-2)
    return a_prev @ weights.mT


def _times(error, matrix):
    """error · matrix for every network; for one sample, a broadcast product and a sum over
    the matrix's rows (a batched matrix-vector ``bmm`` is twice as slow)."""
    if error.shape[-2] == 1:
        return (matrix * error.mT).sum(-2).unsqueeze(-2)
    return error @ matrix


def _dense(a_prev, weights, bias, activation, neurons):
    """One slot, a = f(a_prev Wᵀ + b) with each network's f, zero on padded neurons."""
    z = _product(a_prev, weights) + bias.unsqueeze(-2)
    a = z                                        # identity, unless the network's code says
    for code, name in enumerate(ACTIVATIONS):
        if name != "identity":
            a = torch.where(activation == code, activations.FUNCTIONS[name](z), a)
    return torch.where(neurons.unsqueeze(-2), a, 0.0)


# --8<-- [start:send_back]
def _send_back(rule, weights, neurons, error, chain, grad_w, lr):
    """The cotangent for a slot's input under each network's ``rule`` (its code, (N, 1, 1)):
    autograd's own (``chain``) under ``exact``, else the error times the rule's matrix, as
    ``torch_impl.backprop._send_back`` computes it: W, W − η·∂E/∂W, or under ``proportional``
    W with each row divided by its sum, here written as the error's entries divided by the
    sums (the same product), so that one matrix serves every rule. A padded row's sum is 0, and
    it is divided by 1 instead (no error reaches it)."""
    sums = torch.where(neurons, weights.sum(-1), 1.0).unsqueeze(-2)
    error = torch.where(rule == RULES.index("proportional"), error / sums, error)
    rate = torch.where(rule == RULES.index("raw_error_new_weights"), lr, 0.0)
    matrix = torch.addcmul(weights, rate, grad_w, value=-1)        # W − η·∂E/∂W, or W
    return torch.where(rule == RULES.index("exact"), chain, _times(error, matrix))
# --8<-- [end:send_back]


class _RuledDense(torch.autograd.Function):
    """A slot whose backward sends each network's rule's error, not the chain rule's, to its
    input; its weight and bias gradients, and the chain rule's error, are autograd's VJPs of the
    same slot (of the graph its forward pass built, kept for the backward pass)."""

    @staticmethod
    def forward(ctx, a_prev, weights, bias, activation, neurons, rule, lr):
        with torch.enable_grad():
            inputs = [t.detach().requires_grad_() for t in (a_prev, weights, bias)]
            ctx.graph = (_dense(*inputs, activation, neurons), inputs)
        ctx.save_for_backward(weights, neurons, rule, lr)
        return ctx.graph[0].detach()

    @staticmethod
    def backward(ctx, grad):
        weights, neurons, rule, lr = ctx.saved_tensors
        a, inputs = ctx.graph
        chain, grad_w, grad_b = torch.autograd.grad(a, inputs, grad)
        grad_in = _send_back(rule, weights, neurons, grad, chain, grad_w, lr)
        return grad_in, grad_w, grad_b, None, None, None, None


def _outputs(W, b, nets, X, ruled: bool):
    """Every slot's output a_l, each slot a ``_RuledDense`` if ``ruled``; an inactive slot's
    is its input. A slot is computed for the networks up to the last one it is active in: in
    batch mode they come in decreasing order of depth (``Padded.order``), so those are the
    ones it is active in."""
    a, outs = X, []
    rule, lr = nets["rules"][:, None, None], nets["lr"][:, None, None]
    for slot, (weights, bias) in enumerate(zip(W, b)):
        active = nets["active"][:, slot]
        n = int(active.nonzero().max()) + 1 if active.any() else 0
        below, first = a, _first(n, len(a))
        slot_of = (first(below), first(weights), first(bias),
                   first(nets["activations"][:, slot, None, None]), first(nets["neurons"][:, slot]))
        dense = _RuledDense.apply(*slot_of, first(rule), first(lr)) if ruled else _dense(*slot_of)
        a = torch.where(first(active)[:, None, None], dense, first(below))
        if n < len(below):
            a = torch.cat([a, below[n:]])
        outs.append(a)
    return outs


def _first(n: int, count: int):
    """The first ``n`` of ``count`` rows of a tensor; all of them without a slice (autograd
    would record the slice, and fill a whole tensor of zeros to send its gradient back)."""
    return (lambda tensor: tensor) if n == count else (lambda tensor: tensor[:n])


# The loss forms grouped by their summands: forms that differ only in what they divide by (a sum
# or a mean) are computed together.
_FORMS_BY_SUMMANDS = tuple(
    tuple(code for code, form in enumerate(LOSS_FORMS) if losses.SUMMANDS[form] is summands)
    for summands in dict.fromkeys(losses.SUMMANDS[form] for form in LOSS_FORMS))


def _loss(outputs, T, nets, elements, divisor):
    """Each network's loss: its loss's summands (torch.nn's functions) over its real samples
    and outputs, divided as that loss divides. Cross-entropy's padded classes get the lowest
    logit, whose probability is 0."""
    E = outputs.new_zeros(len(outputs))
    present = set(nets["losses"].unique().tolist())
    for codes in _FORMS_BY_SUMMANDS:
        if present.isdisjoint(codes):
            continue
        rows = torch.nonzero(torch.isin(nets["losses"], torch.tensor(codes)))[:, 0]
        form, a, t = LOSS_FORMS[codes[0]], outputs[rows], T[rows]
        if form.startswith("cross_entropy"):
            a = torch.where(nets["neurons"][rows, -1, None, :], a, torch.finfo(a.dtype).min)
        terms = losses.SUMMANDS[form](a, t)
        kept = elements[rows] if terms.ndim == 3 else nets["samples"][rows]
        summed = torch.where(kept, terms, 0.0).sum(tuple(range(1, terms.ndim)))
        E = E.index_put((rows,), summed / divisor[rows])
    return E


def _gradients(W, b, nets, X, T, elements, divisor, errors=False):
    """(E, ∂E/∂W and ∂E/∂b per slot, and with ``errors`` every slot's error): one autograd
    call for the parameters and every a_l, each network under its rule."""
    W = [w.detach().requires_grad_() for w in W]
    b = [v.detach().requires_grad_() for v in b]
    ruled = bool((nets["rules"] != RULES.index("exact")).any())
    outs = _outputs(W, b, nets, X, ruled)
    E = _loss(outs[-1], T, nets, elements, divisor)
    found = torch.autograd.grad(E.sum(), [*W, *b, *(outs if errors else ())])
    depth = len(W)
    grad_b = [torch.where(nets["train_bias"][:, slot, None], g, 0.0)
              for slot, g in enumerate(found[depth : 2 * depth])]
    # Errors in the tutorials' sign, e_l = −∂E/∂a_l; zero in inactive slots.
    errs = [torch.where(nets["active"][:, slot, None, None], -g, 0.0)
            for slot, g in enumerate(found[2 * depth :])]
    return E.detach(), list(found[:depth]), grad_b, errs


def _rates(lr, grad):
    """Each network's η, shaped to multiply its part of ``grad``."""
    return lr.reshape((-1,) + (1,) * (grad.ndim - 1))


def _descend(params, grads, lr):
    """p − η·g for every parameter."""
    return [torch.addcmul(q, _rates(lr, g), g, value=-1) for q, g in zip(params, grads)]


def _online(W, b, nets, elements, one_sample):
    """The parameters after one update per sample, in order. The networks come in decreasing
    order of their samples (``Padded.order``), so the i-th update is computed for the first
    networks only: those that have an i-th sample (for the others it is an update by zero).
    Each update is made in place."""
    W, b = [w.clone() for w in W], [v.clone() for v in b]
    counts, divisor = nets["samples"].sum(-1), torch.from_numpy(one_sample)
    for i in range(nets["X"].shape[1]):
        n = int((counts > i).sum())
        if n == 0:
            break
        having = {name: value[:n] for name, value in nets.items()}   # an i-th sample
        having["samples"] = having["samples"][:, i : i + 1]
        _, gw, gb, _ = _gradients([w[:n] for w in W], [v[:n] for v in b], having,
                                  having["X"][:, i : i + 1], having["T"][:, i : i + 1],
                                  elements[:n, i : i + 1], divisor[:n])
        for parameter, grad in zip(W + b, gw + gb):
            parameter[:n].addcmul_(_rates(having["lr"], grad), grad, value=-1)
    return W, b


def _in_order(padded: Padded, mode: str) -> StackedStep:
    """``padded_step`` for networks in ``padded.order(mode)``."""
    # The stack as tensors that share its memory (nothing here writes into them).
    nets = {name: torch.from_numpy(value) for name, value in padded._asdict().items()}
    nets["activations"], nets["losses"] = nets["activations"].long(), nets["losses"].long()
    X, T, lr = nets["X"], nets["T"], nets["lr"]
    W, b = list(nets["weights"].unbind(1)), list(nets["biases"].unbind(1))
    elements, divisor = torch.from_numpy(padded.elements()), torch.from_numpy(padded.divisor())
    loss_before, grad_w, grad_b, errors = _gradients(W, b, nets, X, T, elements, divisor,
                                                     errors=True)
    # Batch: one update along these gradients; online: one per sample, in order.
    if mode == "batch":
        W_after, b_after = _descend(W, grad_w, lr), _descend(b, grad_b, lr)
    else:
        W_after, b_after = _online(W, b, nets, elements, padded.divisor(one_sample=True))
    with torch.no_grad():
        W_after, b_after = [w.detach() for w in W_after], [v.detach() for v in b_after]
        loss_after = _loss(_outputs(W_after, b_after, nets, X, False)[-1], T, nets,
                           elements, divisor)
    return StackedStep(
        loss_before.numpy(),
        Gradients(tuple(g.numpy() for g in grad_w), tuple(g.numpy() for g in grad_b),
                  tuple(e.numpy() for e in errors)),
        tuple(Layer(w.numpy(), v.numpy(), "padded") for w, v in zip(W_after, b_after)),
        loss_after.numpy())


def padded_step(padded: Padded, mode: str) -> StackedStep:
    """Loss, gradients, one plain gradient-descent step and the loss after it, for every
    network of ``padded`` (see ``reference/padded.py``), computed in order of their depth
    (batch) or samples (online, ``Padded.order``), so that a slot or an update is computed for
    the first networks only."""
    return in_order(padded, mode, _in_order)


__all__ = ["padded_step"]
