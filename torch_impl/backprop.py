"""Forward pass, gradients and training with torch autograd and ``torch.optim`` (SGD, or the
optimizer asked for: ``_torch_optimizer``).

The contract (names, shapes, signs) is stated once in ``reference/__init__.py``, and the
decorators of ``reference/contract.py`` check and convert every argument and result. Nothing here
differentiates by hand: every derivative is a torch autograd vector–Jacobian product (VJP).

* ``exact`` is the plain graph ``a_l = f_l(a_{l−1} W_lᵀ + b_l)``; autograd is the chain rule.
* ``raw_error`` and ``proportional`` are the same graph with one thing changed: every layer above
  the first is a ``_RuledDense`` whose backward receives ``g = ∂E/∂a_l`` and returns, for its
  input ``a_{l−1}``, the rule's error (``g W`` or ``g (W / row sums)``) instead of the chain rule,
  while its weight and bias gradients are the ordinary autograd VJPs of the same layer.
* The reported errors are ``e_l = −∂E/∂a_l``: minus the cotangent that reaches each layer's output.
"""

from __future__ import annotations

import functools

import torch

from reference import contract
from reference.optimizers import Optimizer
from reference.types import (
    Gradients,
    Intermediates,
    Layer,
    Network,
    StackedStep,
    refuse_zero_sums,
)
from torch_impl import activations, losses


# --8<-- [start:dense]
def _dense(a_prev, weights, bias, activation):
    """One layer, a_l = f(a_{l−1} Wᵀ + b), in plain differentiable torch operations."""
    z = a_prev @ weights.mT          # mT: the matrix transpose (of each network, for a stack)
    if bias is not None:
        z = z + bias.unsqueeze(-2)
    return activations.FUNCTIONS[activation](z)
# --8<-- [end:dense]


# --8<-- [start:send_back]
def _send_back(rule: str, index: int, weights, error, delta, grad_w, lr):
    """The cotangent for the layer's input under ``rule``, from the cotangent error = ∂E/∂a_l
    (``delta`` is unused: the chain rule, ``exact``, is autograd's own)."""
    if rule == "raw_error":
        return error @ weights
    if rule == "raw_error_new_weights":
        return error @ (weights - lr * grad_w)
    refuse_zero_sums(index, weights.detach())
    return error @ (weights / weights.sum(dim=-1, keepdim=True))
# --8<-- [end:send_back]


# --8<-- [start:ruled_dense]
class _RuledDense(torch.autograd.Function):
    """A dense layer whose backward sends the rule's error, not the chain rule's, to its input."""

    @staticmethod
    def forward(ctx, a_prev, weights, bias, activation, rule, index, lr):
        ctx.save_for_backward(a_prev, weights, bias)
        ctx.activation, ctx.rule, ctx.index, ctx.lr = activation, rule, index, lr
        return _dense(a_prev, weights, bias, activation)

    @staticmethod
    def backward(ctx, grad):
        a_prev, weights, bias = ctx.saved_tensors
        # Weights and bias: the ordinary VJP, by autograd through the same layer.
        with torch.enable_grad():
            w = weights.detach().requires_grad_(ctx.needs_input_grad[1] or ctx.lr is not None)
            b = None if bias is None else bias.detach().requires_grad_(ctx.needs_input_grad[2])
            wanted = [t for t in (w, b) if t is not None and t.requires_grad]
            found = iter(torch.autograd.grad(_dense(a_prev.detach(), w, b, ctx.activation),
                                             wanted, grad) if wanted else ())
        grad_w = next(found) if w.requires_grad else None
        grad_b = next(found) if b is not None and b.requires_grad else None
        # Input: the rule's error instead of the chain rule (the only change to the graph).
        grad_in = None
        if ctx.needs_input_grad[0]:
            grad_in = _send_back(ctx.rule, ctx.index, weights, grad, None, grad_w, ctx.lr)
        return grad_in, grad_w, grad_b, None, None, None, None
# --8<-- [end:ruled_dense]


def _outputs(layers, X, rule: str, lr=None):
    """Activations a_1 … a_L of the graph for ``rule`` (the first layer's input error is unused)."""
    a, outs = X, []
    for index, (weights, bias, activation) in enumerate(layers):
        if rule == "exact" or index == 0:
            a = _dense(a, weights, bias, activation)
        else:
            a = _RuledDense.apply(a, weights, bias, activation, rule, index, lr)
        outs.append(a)
    return outs


def _layers(net: Network):
    """Torch tensors (weights, bias, activation) per layer; frozen biases do not require grad."""
    layers = []
    for layer in net:
        weights = torch.tensor(layer.weights, requires_grad=True)       # a copy: SGD writes
        bias = None if layer.bias is None else torch.tensor(layer.bias)  # into its tensors
        if bias is not None and layer.train_bias:
            bias.requires_grad_()
        layers.append((weights, bias, layer.activation))
    return layers


def _parameters(layers):
    """The trainable tensors, in order: W_1, b_1 (if trainable), W_2, …"""
    return [t for w, b, _ in layers for t in (w, b) if t is not None and t.requires_grad]


def _network(layers):
    """The trained tensors as a Network's weights and biases."""
    return tuple(Layer(w.detach(), None if b is None else b.detach(), activation)
                 for w, b, activation in layers)


# --8<-- [start:gradients]
def _gradients(layers, X, T, loss_name: str, rule: str, lr):
    """(E, Gradients) at the layers' parameters. For a stack of networks E is one loss per
    network; autograd differentiates their sum, and the networks' gradients do not mix."""
    # Forward, then one autograd call for the parameters and for every layer's output a_l.
    outs = _outputs(layers, X, rule, lr)
    params = _parameters(layers)
    objective = losses.FUNCTIONS[loss_name](outs[-1], T)
    found = torch.autograd.grad(objective.sum(), [*params, *outs])
    by_tensor = dict(zip(map(id, params), found))
    grad_w = tuple(by_tensor[id(w)] for w, _, _ in layers)
    grad_b = tuple(None if b is None or not b.requires_grad else by_tensor[id(b)]
                   for _, b, _ in layers)
    # Errors in the tutorials' sign: e_l = −∂E/∂a_l.
    errors = tuple(-g for g in found[len(params):])
    return objective.detach(), Gradients(grad_w, grad_b, errors)
# --8<-- [end:gradients]


# --8<-- [start:train]
def _descend(optimizer, layers, X, T, objective, rule: str, lr, mode: str) -> None:
    """One step of ``optimizer`` (SGD): batch makes one update from the whole data set, online
    one update per sample, in order."""
    samples = X.shape[-2]
    batches = [(X, T)] if mode == "batch" else [(X[..., i : i + 1, :], T[..., i : i + 1, :])
                                                for i in range(samples)]
    for x, t in batches:
        optimizer.zero_grad()
        objective(_outputs(layers, x, rule, lr)[-1], t).sum().backward()
        optimizer.step()
# --8<-- [end:train]


@contract.forward
def forward(net: Network, X):
    with torch.no_grad():
        return _outputs(_layers(net), torch.tensor(X), "exact")


@contract.loss
def loss(net: Network, X, T, loss_name: str):
    with torch.no_grad():
        outputs = _outputs(_layers(net), torch.tensor(X), "exact")[-1]
        return losses.FUNCTIONS[loss_name](outputs, torch.tensor(T))


@contract.gradients
def gradients(net: Network, X, T, loss_name: str, rule: str, lr) -> Gradients:
    X, T = torch.tensor(X), torch.tensor(T)
    return _gradients(_layers(net), X, T, loss_name, rule, lr)[1]


# --8<-- [start:optimizers]
def refuse_optimizer(spec) -> str | None:
    """torch.optim computes the torch convention, and Keras's SGD without weight decay (the
    same algorithm for a constant learning rate)."""
    if spec.convention == "torch" or (spec.convention, spec.name, spec.weight_decay) == \
            ("keras", "sgd", 0):
        return None
    return f"torch.optim does not compute the {spec.convention} convention of {spec.name}"


def _torch_optimizer(spec, params, lr: float) -> torch.optim.Optimizer:
    """The torch.optim optimizer of ``spec`` (reference.Optimizer: torch's own names)."""
    if spec is None or spec.name == "sgd":
        spec = spec or Optimizer()
        return torch.optim.SGD(params, lr=lr, momentum=spec.momentum, dampening=spec.dampening,
                               weight_decay=spec.weight_decay, nesterov=spec.nesterov)
    if spec.name in ("adam", "adamw"):
        adam = torch.optim.Adam if spec.name == "adam" else torch.optim.AdamW
        return adam(params, lr=lr, betas=spec.betas, eps=spec.eps,
                    weight_decay=spec.weight_decay, amsgrad=spec.amsgrad)
    return torch.optim.RMSprop(params, lr=lr, alpha=spec.alpha, eps=spec.eps,
                               weight_decay=spec.weight_decay, momentum=spec.momentum,
                               centered=spec.centered)
# --8<-- [end:optimizers]


@functools.partial(contract.train, refuse=refuse_optimizer)
def train(net: Network, X, T, loss_name: str, lr, rule: str, mode: str, steps: int,
          optimizer=None):
    X, T = torch.tensor(X), torch.tensor(T)
    objective = losses.FUNCTIONS[loss_name]
    layers = _layers(net)
    optimizer = _torch_optimizer(optimizer, _parameters(layers), float(lr))
    losses_after = torch.empty(steps, dtype=X.dtype)
    for k in range(steps):
        _descend(optimizer, layers, X, T, objective, rule, lr, mode)
        # The loss over the whole data set after the step.
        with torch.no_grad():
            losses_after[k] = objective(_outputs(layers, X, "exact")[-1], T)
    return _network(layers), losses_after


step = contract.step(train)


@contract.intermediates
def intermediates(net: Network, X, T, loss_name: str, rule: str, lr) -> Intermediates:
    X, T = torch.tensor(X), torch.tensor(T)
    layers = _layers(net)
    errors = _gradients(layers, X, T, loss_name, rule, lr)[1].errors
    a, zs, deltas = X, [], []
    for (weights, bias, activation), error in zip(layers, errors):
        z = (a @ weights.mT + (0 if bias is None else bias)).detach().requires_grad_()
        a = activations.FUNCTIONS[activation](z)
        # delta_l = e_l ⊙ f'(z_l), the slope by autograd: the VJP of the activation at z_l.
        (delta,) = torch.autograd.grad(a, z, error)
        zs.append(z.detach())
        deltas.append(delta)
        a = a.detach()
    return Intermediates(tuple(zs), tuple(deltas), losses.TERMS[loss_name](a, T))


@functools.partial(contract.stacked_step, refuse=refuse_optimizer)
def stacked_step(stack: Network, X, T, loss_name: str, lr, rule: str, mode: str,
                 optimizer=None) -> StackedStep:
    X, T = torch.tensor(X), torch.tensor(T)
    loss_before, grads = _gradients(_layers(stack), X, T, loss_name, rule, lr)
    # The step, with the same optimizer that `train` uses, on fresh copies of the parameters
    # (torch.optim's updates are elementwise: every network of the stack steps at once).
    objective = losses.FUNCTIONS[loss_name]
    layers = _layers(stack)
    _descend(_torch_optimizer(optimizer, _parameters(layers), float(lr)), layers, X, T, objective,
             rule, lr, mode)
    with torch.no_grad():
        loss_after = objective(_outputs(layers, X, "exact")[-1], T)
    return StackedStep(loss_before, grads, _network(layers), loss_after)
