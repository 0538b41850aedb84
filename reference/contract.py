"""The contract's front: every argument checked and converted, every result converted, once.

Each backend writes only its math: ``forward``, ``loss``, ``gradients``, ``train``,
``stacked_step`` and ``intermediates`` over arguments that are already checked NumPy arrays of one
dtype, and wraps each in the decorator of the same name here. The decorator gives the function the
public signature of the contract (``reference/__init__.py``), checks and converts the arguments on
the way in, and turns whatever arrays the math returns (NumPy, torch or JAX) into fresh NumPy
arrays of the dtype on the way out, so that no result shares memory with the caller's network.
``step`` is one step of ``train``, made here for every backend by ``step(train)``.

What the math receives: a ``Network`` of NumPy arrays of ``dtype`` (possibly the caller's own
arrays, so never to be written into), ``X`` (samples, inputs) and ``T`` (samples, outputs) of
``dtype``, names that are known, the loss as its form for the output layer
(``types.loss_form``: ``binary_cross_entropy@sigmoid`` on probabilities) with targets it accepts,
``lr`` as a NumPy scalar of ``dtype`` (``None`` for a rule
that needs none in ``gradients``), and ``steps`` as an int. For ``proportional``, the weights it
is given have no zero row sum above the first layer (checked here, top layer first); a zero sum
reached *during* training is for the math to refuse, with ``types.refuse_zero_sums``.
"""

from __future__ import annotations

import numpy as np

from reference import optimizers
from reference.types import (
    LOSSES,
    MODES,
    RULES,
    Gradients,
    Intermediates,
    Layer,
    StackedStep,
    as_network,
    check_lr,
    check_name,
    check_rule_lr,
    check_shapes,
    check_stack,
    check_steps,
    check_targets,
    loss_form,
    refuse_zero_sums,
)

SEE = "see the contract in ``reference/__init__.py``"


def _public(math, checked, summary: str):
    """``checked`` in the math's module, with the contract's one-line docstring. The math stays
    reachable as ``.math``; there is no ``__wrapped__``, so that the signature shown is the
    contract's, the same on every backend."""
    checked.__qualname__, checked.__module__ = checked.__name__, math.__module__
    checked.__doc__ = f"{summary}; {SEE}."
    checked.math = math
    return checked


def _batch(X, dtype):
    return np.atleast_2d(np.asarray(X, dtype=dtype))


def _prepare(net, X, T, dtype):
    """The network, the batch and the targets as arrays of ``dtype`` that fit together."""
    net, X = as_network(net, dtype, copy=False), _batch(X, dtype)
    T = None if T is None else _batch(T, dtype)
    check_shapes(net, X, T)
    return net, X, T


def _names(loss_name, rule, mode=None):
    check_name("loss", loss_name, LOSSES)
    check_name("rule", rule, RULES)
    if mode is not None:
        check_name("mode", mode, MODES)


def _loss(loss_name, net, T):
    """The loss's form for the network's output layer, once the targets suit the loss."""
    form = loss_form(loss_name, net[-1].activation)
    check_targets(loss_name, T)
    return form


def _scalar(lr, dtype):
    return np.dtype(dtype).type(check_lr(lr))


def _proportional(rule, net):
    """The rule's precondition, top layer first as the backward pass meets it."""
    if rule == "proportional":
        for index in reversed(range(1, len(net))):
            refuse_zero_sums(index, net[index].weights)


# --- results back as NumPy ---------------------------------------------------------------------
def _array(value, dtype):
    """A fresh NumPy array of ``dtype`` (``asarray`` first: torch's ``__array__`` takes no
    ``copy``)."""
    return None if value is None else np.array(np.asarray(value), dtype=dtype)


def _own(value, given, dtype):
    """``value`` as a NumPy array of ``dtype`` that shares no memory with ``given``: the math's
    own writable NumPy array as it is (the reference's W − η·g is new), anything else copied
    (a frozen bias passed through, a torch tensor's memory, a read-only JAX buffer)."""
    if isinstance(value, np.ndarray) and value.dtype == dtype and value.flags.writeable and \
            not np.may_share_memory(value, given):
        return value
    return _array(value, dtype)


def _network(result, given, dtype):
    """The math's network (any arrays) as fresh NumPy arrays, with the given layers' kinds."""
    return tuple(Layer(_own(out.weights, layer.weights, dtype),
                       None if out.bias is None else _own(out.bias, layer.bias, dtype),
                       layer.activation, layer.train_bias)
                 for out, layer in zip(result, given, strict=True))


def _gradients(grads, dtype) -> Gradients:
    return Gradients(*(tuple(_array(a, dtype) for a in part) for part in grads))


# --- the public functions ----------------------------------------------------------------------
def forward(math):
    def forward(net, X, dtype: str = "float64"):
        net, X, _ = _prepare(net, X, None, dtype)
        return tuple(_array(a, dtype) for a in math(net, X))

    return _public(math, forward, "Activations of every layer")


def loss(math):
    def loss(net, X, T, loss_name: str, dtype: str = "float64") -> float:
        check_name("loss", loss_name, LOSSES)
        net, X, T = _prepare(net, X, T, dtype)
        return float(math(net, X, T, _loss(loss_name, net, T)))

    return _public(math, loss, "E at the given parameters")


def _at_parameters(net, X, T, loss_name, rule, dtype, lr):
    """The arguments of a function of one network at its parameters, under ``rule``."""
    _names(loss_name, rule)
    lr = check_rule_lr(rule, lr)
    net, X, T = _prepare(net, X, T, dtype)
    _proportional(rule, net)
    return net, X, T, _loss(loss_name, net, T), rule, None if lr is None else _scalar(lr, dtype)


def gradients(math):
    def gradients(net, X, T, loss_name: str, rule: str = "exact", dtype: str = "float64",
                  lr=None) -> Gradients:
        return _gradients(math(*_at_parameters(net, X, T, loss_name, rule, dtype, lr)), dtype)

    return _public(math, gradients, "∂E/∂W, ∂E/∂b and the errors e_l of ``rule``")


def intermediates(math):
    def intermediates(net, X, T, loss_name: str, rule: str = "exact", dtype: str = "float64",
                      lr=None) -> Intermediates:
        out = math(*_at_parameters(net, X, T, loss_name, rule, dtype, lr))
        return Intermediates(tuple(_array(z, dtype) for z in out.pre_activations),
                             tuple(_array(d, dtype) for d in out.deltas),
                             _array(out.loss_terms, dtype))

    return _public(math, intermediates, "Pre-activations z_l, deltas δ_l of ``rule`` and the "
                                        "terms of E")


def _training(net, X, T, loss_name, lr, rule, mode, dtype):
    """The names, the arrays and the learning rate of a training run, checked and converted."""
    _names(loss_name, rule, mode)
    net, X, T = _prepare(net, X, T, dtype)
    return net, X, T, _scalar(lr, dtype)


def train(math, refuse=None):
    """``refuse(optimizer)``: what the backend cannot compute of an optimizer, or None."""
    def train(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
              steps: int = 1, dtype: str = "float64", optimizer=None):
        net, X, T, lr = _training(net, X, T, loss_name, lr, rule, mode, dtype)
        steps = check_steps(steps)
        _proportional(rule, net)
        extra = _optimizer(optimizer, refuse)
        final, losses = math(net, X, T, _loss(loss_name, net, T), lr, rule, mode, steps, **extra)
        return _network(final, net, dtype), _array(losses, dtype).reshape(steps)

    return _public(math, train, "(final Network, loss after every step)")


def step(train):
    """``step`` from a backend's public ``train``: the network after one step."""

    def step(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
             dtype: str = "float64", optimizer=None):
        return train(net, X, T, loss_name, lr, rule, mode, 1, dtype, optimizer)[0]

    return _public(train.math, step, "The Network after one gradient-descent step")


def one_step(math, refuse=None):
    """``step`` from a backend's math of one step, ``math(net, X, T, loss_name, lr, rule, mode,
    optimizer=None) -> Network``: the checks of ``train``, without the loss after the step
    that ``train`` computes and ``step`` would throw away."""
    def step(net, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
             dtype: str = "float64", optimizer=None):
        net, X, T, lr = _training(net, X, T, loss_name, lr, rule, mode, dtype)
        _proportional(rule, net)
        extra = _optimizer(optimizer, refuse)
        return _network(math(net, X, T, _loss(loss_name, net, T), lr, rule, mode, **extra), net,
                        dtype)

    return _public(math, step, "The Network after one gradient-descent step")


def _optimizer(optimizer, refuse) -> dict:
    """``{"optimizer": optimizer}`` for the math when one is given and the backend computes it
    (``refuse(optimizer)`` is None), ``{}`` for plain gradient descent; else ValueError."""
    if optimizer is None:
        return {}
    lacks = (refuse or (lambda _: None))(optimizers.check(optimizer))
    if lacks:
        raise ValueError(f"optimizer {optimizer} is not supported here: {lacks}")
    return {"optimizer": optimizer}


def stacked_step(math, refuse=None):
    def stacked_step(stack, X, T, loss_name: str, lr, rule: str = "exact", mode: str = "batch",
                     dtype: str = "float64", optimizer=None) -> StackedStep:
        _names(loss_name, rule, mode)
        stack = as_network(stack, dtype, copy=False)
        X, T = np.asarray(X, dtype=dtype), np.asarray(T, dtype=dtype)
        check_stack(stack, X, T)
        lr = _scalar(lr, dtype)
        _proportional(rule, stack)
        out = math(stack, X, T, _loss(loss_name, stack, T), lr, rule, mode,
                   **_optimizer(optimizer, refuse))
        return StackedStep(_array(out.loss_before, dtype), _gradients(out.gradients, dtype),
                           _network(out.network, stack, dtype), _array(out.loss_after, dtype))

    return _public(math, stacked_step, "Loss, gradients, one step and the loss after it for "
                                       "every network of a stack of one architecture")
