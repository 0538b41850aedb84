"""Forward pass, the hand-written backward pass of every documented rule, and gradient descent.

The contract (names, shapes, signs) is stated once in ``reference/__init__.py``.
"""

from __future__ import annotations

import numpy as np

from reference import activations, losses
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


def _batch(X, dtype):
    return np.atleast_2d(np.asarray(X, dtype=dtype))


# --8<-- [start:forward]
def _forward(net: Network, X):
    """Pre-activations z_l and activations a_l of every layer (a_0 = X is not included)."""
    zs, activs = [], []
    a = X
    for layer in net:
        # mT is the matrix transpose (of each network's matrix, for a stack of networks).
        z = a @ layer.weights.mT
        if layer.bias is not None:
            z = z + layer.bias[..., None, :]
        a = activations.FUNCTIONS[layer.activation][0](z)
        zs.append(z)
        activs.append(a)
    return zs, activs
# --8<-- [end:forward]


# --8<-- [start:send_back]
def _send_back(rule: str, index: int, weights, error, delta, grad_w, lr):
    """The error of the layer below, e_{l−1}, from this layer's error e_l and delta_l."""
    if rule == "exact":
        return delta @ weights
    if rule == "raw_error":
        return error @ weights
    if rule == "raw_error_new_weights":
        return error @ (weights - lr * grad_w)
    zero = np.argwhere(zero_sum_rows(weights, np.finfo(weights.dtype).eps))
    if zero.size:
        raise RuleUndefined.zero_sum(index, int(zero[0, -1]))
    return error @ (weights / weights.sum(axis=-1, keepdims=True))
# --8<-- [end:send_back]


# --8<-- [start:backward]
def _backward(net: Network, X, T, loss_name: str, rule: str, lr=None) -> Gradients:
    zs, activs = _forward(net, X)
    # Output error, in the tutorials' sign: e_L = −∂E/∂a_L.
    error = losses.FUNCTIONS[loss_name][1](activs[-1], T)
    inputs = [X, *activs[:-1]]
    grad_w, grad_b, errors = [None] * len(net), [None] * len(net), [None] * len(net)
    for index in reversed(range(len(net))):
        layer = net[index]
        # Delta: the error through the activation's slope; then the gradients with calculus sign.
        delta = error * activations.FUNCTIONS[layer.activation][1](zs[index], activs[index])
        errors[index] = error
        grad_w[index] = -delta.mT @ inputs[index]
        if layer.bias is not None and layer.train_bias:
            grad_b[index] = -delta.sum(axis=-2)
        # Send the error back with the weights as they were before the step (after it, for
        # raw_error_new_weights: the layer is updated before its error goes back).
        if index > 0:
            error = _send_back(rule, index, layer.weights, error, delta, grad_w[index], lr)
    return Gradients(tuple(grad_w), tuple(grad_b), tuple(errors))
# --8<-- [end:backward]


# --8<-- [start:descend]
def _descend(net: Network, grads: Gradients, lr) -> Network:
    """W ← W − η·g for every weight matrix and every trainable bias (new arrays throughout: a
    frozen bias is copied, so that no result shares memory with the caller's network)."""
    return tuple(
        Layer(
            layer.weights - lr * gw,
            (None if layer.bias is None else layer.bias.copy()) if gb is None
            else layer.bias - lr * gb,
            layer.activation,
            layer.train_bias,
        )
        for layer, gw, gb in zip(net, grads.weights, grads.biases)
    )
# --8<-- [end:descend]


def _step(net: Network, X, T, loss_name, lr, rule, mode) -> Network:
    if mode == "batch":
        return _descend(net, _backward(net, X, T, loss_name, rule, lr), lr)
    for i in range(X.shape[-2]):
        sample, target = X[..., i : i + 1, :], T[..., i : i + 1, :]
        net = _descend(net, _backward(net, sample, target, loss_name, rule, lr), lr)
    return net


def _loss(net: Network, X, T, loss_name):
    return losses.FUNCTIONS[loss_name][0](_forward(net, X)[1][-1], T)


def _prepare(net, X, T, dtype):
    """The network, the batch and the targets as arrays of ``dtype`` that fit together (not
    copied: nothing here writes into an array it was given)."""
    net, X = as_network(net, dtype, copy=False), _batch(X, dtype)
    T = None if T is None else _batch(T, dtype)
    check_shapes(net, X, T)
    return net, X, T


def forward(net, X, dtype: str = "float64"):
    """Activations of every layer; see the contract in reference/__init__.py."""
    net, X, _ = _prepare(net, X, None, dtype)
    return tuple(_forward(net, X)[1])


def loss(net, X, T, loss_name: str, dtype: str = "float64") -> float:
    """E at the given parameters; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    return float(_loss(*_prepare(net, X, T, dtype), loss_name))


def gradients(net, X, T, loss_name: str, rule: str = "exact", dtype: str = "float64",
              lr=None) -> Gradients:
    """∂E/∂W, ∂E/∂b and the errors e_l of ``rule``; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    lr = check_rule_lr(rule, lr)
    lr = None if lr is None else np.asarray(lr, dtype=dtype)
    return _backward(*_prepare(net, X, T, dtype), loss_name, rule, lr)


def step(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
         dtype: str = "float64") -> Network:
    """The Network after one gradient-descent step; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    check_name("mode", mode, MODES)
    net, X, T = _prepare(net, X, T, dtype)
    return _step(net, X, T, loss_name, np.asarray(check_lr(lr), dtype=dtype), rule, mode)


def train(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
          steps: int = 1, dtype: str = "float64"):
    """(final Network, loss after every step); see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    check_name("mode", mode, MODES)
    net, X, T = _prepare(net, X, T, dtype)
    lr, steps = np.asarray(check_lr(lr), dtype=dtype), check_steps(steps)
    losses_after = np.empty(steps, dtype=dtype)
    for k in range(steps):
        net = _step(net, X, T, loss_name, lr, rule, mode)
        losses_after[k] = _loss(net, X, T, loss_name)
    return net, losses_after


def stacked_step(stack, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
                 dtype: str = "float64") -> StackedStep:
    """Loss, gradients, one step and the loss after it for every network of a stack of one
    architecture, in one call; see the contract in reference/__init__.py."""
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    check_name("mode", mode, MODES)
    stack = as_network(stack, dtype, copy=False)
    X, T = np.asarray(X, dtype=dtype), np.asarray(T, dtype=dtype)
    check_stack(stack, X, T)
    lr = np.asarray(check_lr(lr), dtype=dtype)
    grads = _backward(stack, X, T, loss_name, rule, lr)
    # A batch step is the descent along these very gradients; online mode goes sample by sample.
    after = _descend(stack, grads, lr) if mode == "batch" else _step(stack, X, T, loss_name, lr,
                                                                     rule, mode)
    return StackedStep(_loss(stack, X, T, loss_name), grads, after, _loss(after, X, T, loss_name))
