"""Padded stacks: networks of many architectures in one stack of one shape.

``crosscheck sweep`` draws a new architecture every few networks. A framework that computes one
stack per architecture pays its per-call costs (PyTorch's eager calls, JAX's compilation) once
per architecture; a ``Padded`` stack holds networks of every architecture in arrays of one shape,
so that a framework's ``padded_step(padded, mode)`` computes them all in one call, and JAX
compiles one function per (shape, mode, dtype).

The padding, for network k of a stack of depth D, width W and S samples:

* Its layers sit in the top slots, D − depth … D − 1, so that its output layer is always slot
  D − 1. A slot below them is inactive (``active[k, l]`` is False): its output is its input,
  ``a_l = a_{l−1}``, so an error passes through it unchanged, its gradients are zero and the
  errors reported for it are zero.
* A layer's weights fill the top-left (outputs, inputs) corner of a (W, W) matrix and its bias
  the first outputs of a (W,) vector; every other entry is zero. An absent bias is a zero bias
  that is not trained (``train_bias`` False), as a frozen one is.
* ``neurons[k, l]`` marks the slot's outputs that are neurons of the layer. The activation of
  every other output is set to zero, so a padded neuron sends nothing up, its incoming and
  outgoing weights get exactly zero gradient, and no error reaches it.
* ``samples[k]`` marks the real samples; the loss has no term for any other sample or for a
  padded output, and divides by the real counts (``divisor``). Online, a padded sample's update
  is an update by a zero gradient.
* Per network, the loss (``losses``, an index into ``LOSS_FORMS``), the rule (an index into
  ``RULES``) and the learning rate; per slot, the activation (an index into ``ACTIVATIONS``).
  ``proportional`` divides by the row sums of real rows only (a padded row's sum is 0).

Why padding changes nothing: every padded entry adds an exact zero to a sum (a zero weight, or a
zero activation, times a finite number), and x + 0 = x exactly; so each padded number equals the
unpadded one except for the order in which a framework adds the same nonzero terms: within
rounding. ``crosscheck sweep`` compares every padded framework result with the NumPy reference
computed unpadded, at the first step's tolerance, and ``tests/test_padded.py`` compares each
framework's padded results with its own unpadded ``stacked_step``. (A framework may compute the
error that a network's first layer would send below it, under its rule, and discard it in the
inactive slots; the unpadded step computes none.)

``padded_step`` refuses nothing: a zero row sum under ``proportional`` gives non-finite numbers
where the one-network functions raise ``RuleUndefined``. ``crosscheck sweep`` computes the NumPy
reference first, and it refuses.

``padded_step`` returns a ``StackedStep`` in slot coordinates: per slot (N, W, W) weight
gradients, (N, W) bias gradients (zero where not trained), (N, S, W) errors and the parameters
after one plain gradient-descent step (no optimizer), with the losses before and after (N,).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from reference.types import LOSSES, ON_PROBABILITIES, Gradients, Layer, StackedStep

# Every loss a backend's tables hold: binary cross-entropy on logits or on probabilities.
LOSS_FORMS = LOSSES + tuple(name + ON_PROBABILITIES for name in LOSSES
                            if name.startswith("binary_cross_entropy"))
# What each loss divides its sum of terms by: 1, the samples, or the elements (samples·outputs).
_MEAN_OVER = {"mse": "elements", "cross_entropy": "samples", "binary_cross_entropy": "elements",
              "binary_cross_entropy@sigmoid": "elements"}


class Padded(NamedTuple):
    """N networks of any architectures, padded to depth D, width W and S samples (see the
    module docstring). Every field is a NumPy array; floats are of the stack's dtype."""

    weights: np.ndarray       # (N, D, W, W)
    biases: np.ndarray        # (N, D, W)
    train_bias: np.ndarray    # (N, D) bool
    activations: np.ndarray   # (N, D) int: index into ACTIVATIONS
    active: np.ndarray        # (N, D) bool
    neurons: np.ndarray       # (N, D, W) bool
    X: np.ndarray             # (N, S, W)
    T: np.ndarray             # (N, S, W)
    samples: np.ndarray       # (N, S) bool
    losses: np.ndarray        # (N,) int: index into LOSS_FORMS
    rules: np.ndarray         # (N,) int: index into RULES
    lr: np.ndarray            # (N,)

    def elements(self) -> np.ndarray:
        """(N, S, W) bool: the terms of the loss, real samples × real outputs."""
        return self.samples[:, :, None] & self.neurons[:, -1, None, :]

    def divisor(self, one_sample: bool = False) -> np.ndarray:
        """(N,) what each network's loss divides its sum of terms by, over all its samples or
        (``one_sample``, online) over one sample; never 0 (a padded sample's terms are 0)."""
        count = {"samples": 1 if one_sample else self.samples.sum(-1)}
        count["elements"] = count["samples"] * self.neurons[:, -1].sum(-1)
        forms = np.array(LOSS_FORMS)[self.losses]
        divisor = np.ones(len(forms))
        for over in ("samples", "elements"):
            chosen = np.isin(forms, [f for f, o in _MEAN_OVER.items() if o == over])
            divisor = np.where(chosen, np.maximum(count[over], 1), divisor)
        return divisor.astype(self.X.dtype)

    def order(self, mode: str) -> np.ndarray:
        """The rows in decreasing order of their samples (``mode`` online) or of their active
        slots, their depth (batch), ties in their order: online, the networks that have an i-th
        sample come first, and in batch mode, those that a slot is active in."""
        key = self.samples if mode == "online" else self.active
        return np.argsort(-key.sum(-1), kind="stable")

    def take(self, rows) -> Padded:
        """The networks ``rows`` (an index array), as a Padded stack of their own."""
        return Padded(*(field[rows] for field in self))


def unmoved(order) -> bool:
    """Whether ``order`` (a permutation of the rows) leaves every row where it is: a stack
    padded in order already (as the sweep pads its calls) needs no copy into order."""
    return np.array_equal(order, np.arange(len(order)))


def in_order(padded: Padded, mode: str, step) -> StackedStep:
    """``step(stack, mode)`` on the networks of ``padded`` in ``padded.order(mode)``, its results
    put back in the rows of ``padded``: for a framework that computes a slot or an update for
    the first networks of a stack only."""
    order = padded.order(mode)
    if unmoved(order):
        return step(padded, mode)
    found = step(padded.take(order), mode)
    rows = np.argsort(order)

    def back(arrays):
        return tuple(array[rows] for array in arrays)

    grads = found.gradients
    return StackedStep(found.loss_before[rows],
                       Gradients(back(grads.weights), back(grads.biases), back(grads.errors)),
                       tuple(Layer(layer.weights[rows], layer.bias[rows], layer.activation)
                             for layer in found.network),
                       found.loss_after[rows])


__all__ = ["LOSS_FORMS", "Padded", "in_order", "unmoved"]
