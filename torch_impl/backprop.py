"""Forward pass, gradients and gradient descent with torch autograd and ``torch.optim.SGD``.

The contract (names, shapes, signs) is stated once in ``reference/__init__.py``. Nothing here
differentiates by hand: every derivative is a torch autograd vector–Jacobian product (VJP).

* ``exact`` is the plain graph ``a_l = f_l(a_{l−1} W_lᵀ + b_l)``; autograd is the chain rule.
* ``raw_error`` and ``proportional`` are the same graph with one thing changed: every layer above
  the first is a ``_RuledDense`` whose backward receives ``g = ∂E/∂a_l`` and returns, for its
  input ``a_{l−1}``, the rule's error (``g W`` or ``g (W / row sums)``) instead of the chain rule,
  while its weight and bias gradients are the ordinary autograd VJPs of the same layer.
* The reported errors are ``e_l = −∂E/∂a_l``: minus the cotangent that reaches each layer's output.
"""

from __future__ import annotations

import numpy as np
import torch

from reference.types import (
    LOSSES,
    MODES,
    RULES,
    Gradients,
    Layer,
    Network,
    RuleUndefined,
    StackedStep,
    as_network,
    check_lr,
    check_name,
    check_rule_lr,
    check_shapes,
    check_stack,
    check_steps,
    zero_sum_rows,
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
def _send_back(rule: str, index: int, weights, grad, grad_w, lr):
    """The cotangent for the layer's input under ``rule``, from the cotangent g = ∂E/∂a_l."""
    if rule == "raw_error":
        return grad @ weights
    if rule == "raw_error_new_weights":
        return grad @ (weights - lr * grad_w)
    zero = zero_sum_rows(weights, torch.finfo(weights.dtype).eps)
    if bool(zero.any()):
        raise RuleUndefined.zero_sum(index, int(torch.nonzero(zero)[0, -1]))
    return grad @ (weights / weights.sum(dim=-1, keepdim=True))
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
            grad_in = _send_back(ctx.rule, ctx.index, weights, grad, grad_w, ctx.lr)
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
        weights = torch.from_numpy(layer.weights).requires_grad_()
        bias = None if layer.bias is None else torch.from_numpy(layer.bias)
        if bias is not None and layer.train_bias:
            bias.requires_grad_()
        layers.append((weights, bias, layer.activation))
    return layers


def _parameters(layers):
    """The trainable tensors, in order: W_1, b_1 (if trainable), W_2, …"""
    return [t for w, b, _ in layers for t in (w, b) if t is not None and t.requires_grad]


def _network(layers, net: Network) -> Network:
    """The tensors back as a Network of NumPy arrays."""
    return tuple(
        Layer(w.detach().numpy().copy(), None if b is None else b.detach().numpy().copy(),
              layer.activation, layer.train_bias)
        for (w, b, _), layer in zip(layers, net)
    )


def _batch(X, dtype):
    return torch.from_numpy(np.array(np.atleast_2d(np.asarray(X, dtype=dtype))))


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
    grad_w = tuple(by_tensor[id(w)].numpy() for w, _, _ in layers)
    grad_b = tuple(None if b is None or not b.requires_grad else by_tensor[id(b)].numpy()
                   for _, b, _ in layers)
    # Errors in the tutorials' sign: e_l = −∂E/∂a_l.
    errors = tuple((-g).numpy() for g in found[len(params):])
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


def forward(net, X, dtype: str = "float64"):
    """Activations of every layer; see the contract in reference/__init__.py."""
    net, X = as_network(net, dtype), _batch(X, dtype)
    check_shapes(net, X)
    with torch.no_grad():
        return tuple(a.numpy() for a in _outputs(_layers(net), X, "exact"))


def loss(net, X, T, loss_name: str, dtype: str = "float64") -> float:
    """E at the given parameters; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    net, X, T = as_network(net, dtype), _batch(X, dtype), _batch(T, dtype)
    check_shapes(net, X, T)
    with torch.no_grad():
        return float(losses.FUNCTIONS[loss_name](_outputs(_layers(net), X, "exact")[-1], T))


def gradients(net, X, T, loss_name: str, rule: str = "exact", dtype: str = "float64",
              lr=None) -> Gradients:
    """∂E/∂W, ∂E/∂b and the errors e_l of ``rule``; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    lr = check_rule_lr(rule, lr)
    net, X, T = as_network(net, dtype), _batch(X, dtype), _batch(T, dtype)
    check_shapes(net, X, T)
    return _gradients(_layers(net), X, T, loss_name, rule, lr)[1]


def step(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
         dtype: str = "float64") -> Network:
    """The Network after one gradient-descent step; see the contract in reference/__init__.py."""
    return train(net, X, T, loss_name, lr, rule, mode, 1, dtype)[0]


def train(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
          steps: int = 1, dtype: str = "float64"):
    """(final Network, loss after every step); see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    check_name("mode", mode, MODES)
    net, X, T = as_network(net, dtype), _batch(X, dtype), _batch(T, dtype)
    check_shapes(net, X, T)
    lr, steps = check_lr(lr), check_steps(steps)
    objective = losses.FUNCTIONS[loss_name]
    layers = _layers(net)
    optimizer = torch.optim.SGD(_parameters(layers), lr=lr)
    losses_after = torch.empty(steps, dtype=X.dtype)
    for k in range(steps):
        _descend(optimizer, layers, X, T, objective, rule, lr, mode)
        # The loss over the whole data set after the step.
        with torch.no_grad():
            losses_after[k] = objective(_outputs(layers, X, "exact")[-1], T)
    return _network(layers, net), losses_after.numpy()


def stacked_step(stack, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
                 dtype: str = "float64") -> StackedStep:
    """Loss, gradients, one step and the loss after it for every network of a stack of one
    architecture, in one call; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    check_name("mode", mode, MODES)
    stack = as_network(stack, dtype)
    X = torch.from_numpy(np.array(X, dtype=dtype))
    T = torch.from_numpy(np.array(T, dtype=dtype))
    check_stack(stack, X, T)
    lr = check_lr(lr)
    loss_before, grads = _gradients(_layers(stack), X, T, loss_name, rule, lr)
    # The step, with the same SGD that `train` uses; it updates `stack`'s arrays (as_network's
    # copies) in place, after the gradients above were taken from them.
    objective = losses.FUNCTIONS[loss_name]
    layers = _layers(stack)
    _descend(torch.optim.SGD(_parameters(layers), lr=lr), layers, X, T, objective, rule, lr, mode)
    with torch.no_grad():
        loss_after = objective(_outputs(layers, X, "exact")[-1], T)
    return StackedStep(loss_before.numpy(), grads, _network(layers, stack), loss_after.numpy())
