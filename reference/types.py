"""The neutral data types shared by every backend, and the names they accept."""

from __future__ import annotations

import math
import operator
from typing import NamedTuple

import numpy as np

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
LOSSES = ("half_sse", "sse", "mse", "cross_entropy", "cross_entropy_sum", "binary_cross_entropy",
          "binary_cross_entropy_sum")
RULES = ("exact", "raw_error", "proportional", "raw_error_new_weights")
# Rules whose error depends on the step itself, so that gradients() needs the learning rate.
RULES_NEEDING_LR = ("raw_error_new_weights",)
MODES = ("batch", "online")
DTYPES = ("float64", "float32")


# A neuron's incoming weights "sum to zero" for the proportional rule when the sum is within
# rounding of zero: |Σ_k w_jk| ≤ ZERO_SUM_ULPS · eps · Σ_k |w_jk|. [0.1, 0.2, −0.3] sums to
# 5.6e-17 in float64 and to 0 in float32; either way it is the same undefined split, and the
# same answer in every dtype and on every backend (dividing by 5.6e-17 gives errors of 1e15).
ZERO_SUM_ULPS = 64


def zero_sum_rows(weights, eps):
    """Per row (neuron): do its incoming weights sum to zero within rounding? Works on NumPy,
    torch and JAX arrays alike; ``eps`` is the machine epsilon of their dtype."""
    return abs(weights.sum(-1)) <= ZERO_SUM_ULPS * eps * abs(weights).sum(-1)


def refuse_zero_sums(index: int, weights) -> None:
    """Raise RuleUndefined naming the first neuron of layer ``index`` whose incoming weights
    sum to zero (in a stack, of the first network that has one). ``weights`` is a NumPy array,
    a torch tensor that needs no gradient, or a concrete JAX array: the one zero-sum check of
    every backend, outside a JAX trace."""
    weights = np.asarray(weights)
    zero = np.argwhere(zero_sum_rows(weights, np.finfo(weights.dtype).eps))
    if zero.size:
        raise RuleUndefined.zero_sum(index, int(zero[0, -1]))


class RuleUndefined(ValueError):
    """A rule cannot be applied to these weights (``proportional`` with a zero weight sum)."""

    @classmethod
    def zero_sum(cls, layer: int, neuron: int) -> RuleUndefined:
        return cls(f"proportional rule: layer {layer} neuron {neuron}: its incoming weights sum "
                   "to zero (within rounding), so its error cannot be split in proportion to "
                   "them")


class Supports(NamedTuple):
    """What a backend can compute: a backend module may declare ``SUPPORTS = Supports(...)``;
    the harness skips any other combination as "not supported", rather than failing."""

    rules: tuple[str, ...] = RULES
    modes: tuple[str, ...] = MODES
    dtypes: tuple[str, ...] = DTYPES
    losses: tuple[str, ...] = LOSSES

    def refusal(self, rule: str, mode: str, dtype: str, loss: str) -> str | None:
        """Why this combination is not supported ("rule raw_error"), or None if it is."""
        asked = {"rules": rule, "modes": mode, "dtypes": dtype, "losses": loss}
        for kind, name in asked.items():
            if name not in getattr(self, kind):
                return f"{kind[:-1]} {name}"
        return None


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


class Intermediates(NamedTuple):
    """The tutorials' intermediate quantities at the given parameters: per layer the
    pre-activation z_l (the tutorials' net) and the delta δ_l = e_l ⊙ f'_l(z_l) of the rule, each
    (n_samples, width), and each sample's and output's term of E, (n_samples, outputs)."""

    pre_activations: tuple[np.ndarray, ...]
    deltas: tuple[np.ndarray, ...]
    loss_terms: np.ndarray


class StackedStep(NamedTuple):
    """``stacked_step``'s result: per network of a stack, the loss before the step, the rule's
    Gradients over all samples, the Network after one step and the loss after it. Every array
    carries the stack on its first axis: weights (networks, outputs, inputs), losses (networks,)."""

    loss_before: np.ndarray
    gradients: Gradients
    network: Network
    loss_after: np.ndarray


def check_name(kind: str, name: str, allowed: tuple[str, ...]) -> str:
    """Return ``name`` if it is one of ``allowed``, else raise a ValueError that lists them."""
    if name not in allowed:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(allowed)}")
    return name


def as_network(net, dtype: str = "float64", copy: bool = True) -> Network:
    """``net`` (any sequence of Layer-like tuples) as NumPy arrays of ``dtype``: copies, or with
    ``copy=False`` the caller's own arrays where they already have that dtype (for code that
    never writes into them)."""
    check_name("dtype", dtype, DTYPES)
    layers = []
    for layer in net:
        layer = Layer(*layer)
        check_name("activation", layer.activation, ACTIVATIONS)
        weights = np.array(layer.weights, dtype=dtype, copy=copy or None)
        bias = None if layer.bias is None else np.array(layer.bias, dtype=dtype, copy=copy or None)
        layers.append(Layer(weights, bias, layer.activation, bool(layer.train_bias)))
    return tuple(layers)


def check_lr(lr) -> float:
    """The learning rate as a float; ValueError unless it is finite and > 0."""
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"learning rate must be a finite number > 0, got {lr}")
    return lr


def check_steps(steps) -> int:
    """The number of steps as an int; ValueError unless it is a whole number ≥ 0."""
    try:
        steps = operator.index(steps)
    except TypeError:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}") from None
    if steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps}")
    return steps


def check_shapes(net: Network, X, T=None) -> None:
    """ValueError unless the batch X, every layer and the targets T fit together."""
    width, what = X.shape[1], "X"
    for index, layer in enumerate(net):
        if layer.weights.ndim != 2 or layer.weights.shape[1] != width:
            raise ValueError(f"layer {index}: weights of shape {tuple(layer.weights.shape)} do not"
                             f" take the {width} columns of {what}")
        if layer.bias is not None and layer.bias.shape != (layer.weights.shape[0],):
            raise ValueError(f"layer {index}: bias of shape {tuple(layer.bias.shape)}, expected"
                             f" ({layer.weights.shape[0]},)")
        width, what = layer.weights.shape[0], f"layer {index}'s output"
    if T is not None and tuple(T.shape) != (X.shape[0], width):
        raise ValueError(f"T has shape {tuple(T.shape)}, expected {(X.shape[0], width)}")


def check_stack(stack: Network, X, T) -> None:
    """ValueError unless X (networks, samples, inputs), T (networks, samples, outputs) and every
    layer of ``stack`` hold the same number of networks, and each network fits its data."""
    count = X.shape[0]
    arrays = [("X", X), ("T", T)] + [
        (f"layer {i} {part}", array) for i, layer in enumerate(stack)
        for part, array in (("weights", layer.weights), ("bias", layer.bias)) if array is not None]
    for what, array in arrays:
        if array.ndim < 2 or array.shape[0] != count:
            raise ValueError(f"{what} of shape {tuple(array.shape)} is not a stack of {count} "
                             "networks' arrays")
    first = tuple(Layer(layer.weights[0], None if layer.bias is None else layer.bias[0],
                        layer.activation, layer.train_bias) for layer in stack)
    check_shapes(first, X[0], T[0])


# What the classification losses read from the output layer: cross-entropy's softmax is part of
# the loss, so it takes the output layer's values as logits; binary cross-entropy takes logits
# from an identity output layer (BCEWithLogitsLoss) or probabilities from a sigmoid one (BCELoss).
LOSS_OUTPUTS = {
    "cross_entropy": ("identity",), "cross_entropy_sum": ("identity",),
    "binary_cross_entropy": ("identity", "sigmoid"),
    "binary_cross_entropy_sum": ("identity", "sigmoid"),
}
# The backends' loss tables key binary cross-entropy on probabilities with this suffix.
ON_PROBABILITIES = "@sigmoid"


def loss_form(loss_name: str, output_activation: str) -> str:
    """The key of the loss in a backend's loss tables: ``loss_name``, or for binary
    cross-entropy on a sigmoid output layer ``loss_name + ON_PROBABILITIES``: the same E,
    computed on probabilities rather than logits. ValueError when the loss cannot read the
    output layer's values."""
    allowed = LOSS_OUTPUTS.get(loss_name, ACTIVATIONS)
    if output_activation not in allowed:
        reads = "logits: the softmax is part of the loss" if len(allowed) == 1 else \
            "logits (identity) or probabilities (sigmoid)"
        raise ValueError(f"loss {loss_name} reads the output layer's values as {reads}; the "
                         f"output layer's activation must be {' or '.join(allowed)}, not "
                         f"{output_activation}")
    if output_activation == "sigmoid" and loss_name in LOSS_OUTPUTS:
        return loss_name + ON_PROBABILITIES
    return loss_name


def check_targets(loss_name: str, T) -> None:
    """ValueError unless the targets T suit the loss: for cross-entropy, rows of class
    probabilities (≥ 0, each summing to 1 within rounding); for binary cross-entropy, values in
    [0, 1]. T is a NumPy array (samples, outputs), or a stack of them."""
    if loss_name not in LOSS_OUTPUTS:
        return
    T = np.asarray(T)
    if not np.all((T >= 0) & (T <= 1)):
        raise ValueError(f"targets of {loss_name} must lie in [0, 1], got "
                         f"{float(T[~((T >= 0) & (T <= 1))].flat[0])!r}")
    if loss_name.startswith("cross_entropy"):
        sums = T.sum(axis=-1)
        off = np.abs(sums - 1) > ZERO_SUM_ULPS * np.finfo(T.dtype).eps * T.shape[-1]
        if np.any(off):
            raise ValueError(f"targets of {loss_name} must be rows of class probabilities, each "
                             f"summing to 1; a row sums to {float(sums[off].flat[0])!r}")


def check_rule_lr(rule: str, lr):
    """The learning rate a rule needs for its errors (None for rules that need none)."""
    if rule in RULES_NEEDING_LR:
        if lr is None:
            raise ValueError(f"rule {rule!r} sends errors back through the updated weights, "
                             "so it needs the learning rate (lr=...)")
        return check_lr(lr)
    return None
