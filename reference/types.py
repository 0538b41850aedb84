"""The neutral data types shared by every backend, and the names they accept."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
LOSSES = ("half_sse", "sse", "mse")
RULES = ("exact", "raw_error", "proportional")
MODES = ("batch", "online")
DTYPES = ("float64", "float32")


class RuleUndefined(ValueError):
    """A rule cannot be applied to these weights (``proportional`` with a zero weight sum)."""


class Layer(NamedTuple):
    """One dense layer: ``weights`` (outputs, inputs), ``bias`` (outputs,) or None."""

    weights: np.ndarray
    bias: np.ndarray | None
    activation: str
    train_bias: bool = True


Network = tuple[Layer, ...]


class Gradients(NamedTuple):
    """Per layer: ∂E/∂W, ∂E/∂b (None when absent or frozen) and the rule's error e_l."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray | None, ...]
    errors: tuple[np.ndarray, ...]


def check_name(kind: str, name: str, allowed: tuple[str, ...]) -> str:
    """Return ``name`` if it is one of ``allowed``, else raise a ValueError that lists them."""
    if name not in allowed:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(allowed)}")
    return name


def as_network(net, dtype: str = "float64") -> Network:
    """Copy ``net`` (any sequence of Layer-like tuples) into NumPy arrays of ``dtype``."""
    check_name("dtype", dtype, DTYPES)
    layers = []
    for layer in net:
        layer = Layer(*layer)
        check_name("activation", layer.activation, ACTIVATIONS)
        weights = np.array(layer.weights, dtype=dtype, copy=True)
        bias = None if layer.bias is None else np.array(layer.bias, dtype=dtype, copy=True)
        layers.append(Layer(weights, bias, layer.activation, bool(layer.train_bias)))
    return tuple(layers)
