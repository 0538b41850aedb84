"""Forward pass, the hand-written backward pass of every documented rule, and gradient descent.

The contract (names, shapes, signs) is stated once in ``reference/__init__.py``; the decorators of
``reference/contract.py`` check and convert every argument, so the functions here hold the math
and nothing else.
"""

from __future__ import annotations

import numpy as np

from reference import activations, contract, losses, optimizers
from reference.types import (
    Gradients,
    Intermediates,
    Layer,
    Network,
    StackedStep,
    refuse_zero_sums,
)


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
    refuse_zero_sums(index, weights)
    return error @ (weights / weights.sum(axis=-1, keepdims=True))
# --8<-- [end:send_back]


def _delta(layer, error, z, a):
    """delta_l = e_l ⊙ f_l'(z_l): the error through the activation's slope."""
    return error * activations.FUNCTIONS[layer.activation][1](z, a)


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
        delta = _delta(layer, error, zs[index], activs[index])
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
    """W ← W − η·g for every weight matrix and every trainable bias."""
    return tuple(
        Layer(_minus(layer.weights, lr, gw), layer.bias if gb is None else
              _minus(layer.bias, lr, gb), layer.activation, layer.train_bias)
        for layer, gw, gb in zip(net, grads.weights, grads.biases)
    )
# --8<-- [end:descend]


def _minus(parameter, lr, gradient):
    """parameter − η·gradient, the same numbers as that expression, in one new array: −η·g is
    written into it and the parameter added in place. The expression itself makes a second
    array of a layer's size for η·g, and on large layers that allocation, not the arithmetic,
    took three quarters of the update's time (6.4 of 8.2 ms on 2048×2048 in float32)."""
    new = np.multiply(gradient, -lr)
    new += parameter
    return new


def _optimize(net: Network, grads: Gradients, lr, optimizer, states) -> Network:
    """One update of ``optimizer`` for every weight matrix and every trainable bias; ``states``
    holds each one's state (``reference/optimizers.py``) from one update to the next."""
    def updated(index, parameter, gradient):
        if gradient is None:
            return parameter
        state = states.setdefault(index, optimizers.start(parameter))
        return optimizers.update(optimizer, state, parameter, gradient, lr)

    return tuple(Layer(updated((k, "w"), layer.weights, gw), updated((k, "b"), layer.bias, gb),
                       layer.activation, layer.train_bias)
                 for k, (layer, gw, gb) in enumerate(zip(net, grads.weights, grads.biases)))


def _step(net: Network, X, T, loss_name, lr, rule, mode, optimizer=None, states=None) -> Network:
    """One step: plain gradient descent, or an optimizer whose ``states`` carry over."""
    def descend(net, grads):
        return _descend(net, grads, lr) if optimizer is None else \
            _optimize(net, grads, lr, optimizer, states)

    if mode == "batch":
        return descend(net, _backward(net, X, T, loss_name, rule, lr))
    for i in range(X.shape[-2]):
        sample, target = X[..., i : i + 1, :], T[..., i : i + 1, :]
        net = descend(net, _backward(net, sample, target, loss_name, rule, lr))
    return net


def _loss(net: Network, X, T, loss_name):
    return losses.FUNCTIONS[loss_name][0](_forward(net, X)[1][-1], T)


@contract.forward
def forward(net: Network, X):
    return _forward(net, X)[1]


@contract.loss
def loss(net: Network, X, T, loss_name: str):
    return _loss(net, X, T, loss_name)


@contract.gradients
def gradients(net: Network, X, T, loss_name: str, rule: str, lr) -> Gradients:
    return _backward(net, X, T, loss_name, rule, lr)


def walk(net: Network, X, T, loss_name: str, lr, rule: str, mode: str, optimizer=None):
    """The network after step 1, 2, 3, … of a training run, one at a time and without end:
    ``train``'s loop, for a caller that watches every step. The arguments are as ``train``
    passes them on (NumPy arrays of one dtype, names checked); ``walk`` checks nothing."""
    states = {}
    while True:
        net = _step(net, X, T, loss_name, lr, rule, mode, optimizer, states)
        yield net


@contract.train
def train(net: Network, X, T, loss_name: str, lr, rule: str, mode: str, steps: int,
          optimizer=None):
    losses_after, final = np.empty(steps, dtype=X.dtype), net
    for k, final in zip(range(steps), walk(net, X, T, loss_name, lr, rule, mode, optimizer)):
        losses_after[k] = _loss(final, X, T, loss_name)
    return final, losses_after


@contract.one_step
def step(net: Network, X, T, loss_name: str, lr, rule: str, mode: str, optimizer=None):
    return _step(net, X, T, loss_name, lr, rule, mode, optimizer, {})


@contract.intermediates
def intermediates(net: Network, X, T, loss_name: str, rule: str, lr) -> Intermediates:
    zs, activs = _forward(net, X)
    errors = _backward(net, X, T, loss_name, rule, lr).errors
    deltas = tuple(_delta(*each) for each in zip(net, errors, zs, activs))
    return Intermediates(tuple(zs), deltas, losses.TERMS[loss_name](activs[-1], T))


@contract.stacked_step
def stacked_step(stack: Network, X, T, loss_name: str, lr, rule: str, mode: str,
                 optimizer=None) -> StackedStep:
    grads = _backward(stack, X, T, loss_name, rule, lr)
    # A batch step is the descent along these very gradients; online mode goes sample by sample.
    # An optimizer's update is elementwise, so it steps every network of the stack at once.
    after = _descend(stack, grads, lr) if mode == "batch" and optimizer is None else \
        _step(stack, X, T, loss_name, lr, rule, mode, optimizer, {})
    return StackedStep(_loss(stack, X, T, loss_name), grads, after, _loss(after, X, T, loss_name))


def refuse_optimizer(optimizer) -> str | None:
    """The reference computes every optimizer in every convention."""
    return None
