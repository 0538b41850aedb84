"""The vocabulary of quantities: every number the suite computes, compares and checks, once.

A backend's run of an example is a ``Result``: the loss before training, the first step's
gradients and errors, the parameters after the steps, the loss after every step and, where a run
computes them, every layer's activations before and after. Each ``Quantity`` below names one
thing that can be read from a Result: its key (in the JSON, in figure keys such as
``params_after.w5``, in messages), its form (one number, the outputs, one matrix per layer, the
parameters per layer, one number per step), whether it belongs to the first step or to the end of
the training, how tables label it, which settings a published figure of it depends on, and
whether every backend reports it (the JSON, the golden files and the comparison between
backends) or it is read off the reported ones for figures only.

A new quantity is one entry of ``QUANTITIES``; if backends must compute something new for it,
also a field of ``Result`` and the line of ``crosscheck/runs/example.py`` that fills it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

FIRST_STEP = "first step"
AFTER_STEPS = "after steps"

# The settings a published figure may depend on besides the network and the data: a figure is
# checked only when a run keeps them as the example gives them.
FIRST_UPDATE = frozenset({"rule", "learning_rate"})
TRAINING = frozenset({"rule", "steps", "mode", "learning_rate"})


class Form(StrEnum):
    SCALAR = "scalar"            # one number
    OUTPUTS = "outputs"          # (samples, outputs) of the last layer
    LAYERS = "layers"            # per layer: (samples, width)
    PARAMETERS = "parameters"    # per layer: weights (outputs, inputs) and bias (outputs,)
    SERIES = "series"            # one number per training step


@dataclass(frozen=True)
class Parameters:
    """One layer's weights and bias (None where the layer has no bias, or, for a gradient,
    holds it fixed)."""

    weights: np.ndarray
    bias: np.ndarray | None


@dataclass(frozen=True)
class Result:
    """What one backend computes for one example. For a stack of networks (``crosscheck
    sweep``) every array has a leading network axis and ``losses`` is (networks, 1)."""

    loss_before: float | np.ndarray
    gradients: tuple[Parameters, ...]
    errors: tuple[np.ndarray, ...]
    params_after: tuple[Parameters, ...]
    losses: np.ndarray
    activations_before: tuple[np.ndarray, ...] | None = None
    activations_after: tuple[np.ndarray, ...] | None = None
    # The tutorials' intermediates, from a backend's optional ``intermediates``: None without it.
    pre_activations_before: tuple[np.ndarray, ...] | None = None
    deltas: tuple[np.ndarray, ...] | None = None
    loss_terms_before: np.ndarray | None = None


@dataclass(frozen=True)
class Place:
    """Where a number lives: a quantity, and a layer, a part and an index within it."""

    quantity: str
    layer: int | None = None
    part: str | None = None          # "weights" or "bias", for parameters
    index: tuple[int, ...] = ()

    def at(self, index) -> Place:
        return Place(self.quantity, self.layer, self.part, tuple(int(i) for i in index))

    def __str__(self) -> str:
        """``gradients[layer 0].weights[1][0]``, ``errors[layer 1]``, ``loss_before``."""
        text = self.quantity
        if self.layer is not None:
            text += f"[layer {self.layer}]"
        if self.part:
            text += f".{self.part}"
        return text + "".join(f"[{i}]" for i in self.index)


@dataclass(frozen=True)
class Quantity:
    key: str
    form: Form
    phase: str                   # FIRST_STEP or AFTER_STEPS
    label: str                   # for tables; "{}" is the neuron's or the parameter's name
    meaning: str                 # one line, for the documentation of figure keys
    get: Callable[[Result, float], object]     # its value, from a result and the learning rate
    depends: frozenset[str] = frozenset()
    reported: bool = True        # every backend reports it: JSON, golden files, comparison
    trained_only: bool = False   # parameters: a bias held fixed has none
    repeats: bool = False        # another quantity's numbers again: not listed by `run --full`
    optional: bool = False       # from a function a backend may lack: None there, not compared

    def value(self, result: Result, learning_rate: float):
        return self.get(result, learning_rate)

    def leaves(self, value) -> Iterator[tuple[Place, np.ndarray | None]]:
        """(place, array) for every array of a value of this quantity (one None for a value
        that is not there)."""
        if value is None:
            yield Place(self.key), None
        elif self.form is Form.LAYERS:
            for layer, array in enumerate(value):
                yield Place(self.key, layer), array
        elif self.form is Form.PARAMETERS:
            for layer, params in enumerate(value):
                yield Place(self.key, layer, "weights"), params.weights
                yield Place(self.key, layer, "bias"), params.bias
        else:
            yield Place(self.key), value

    def number(self, result: Result, learning_rate: float, place: Place) -> float:
        """The one number at ``place`` (with its index) of this quantity in ``result``."""
        value = self.value(result, learning_rate)
        if place.layer is not None:
            value = value[place.layer]
        if place.part is not None:
            value = getattr(value, place.part)
        return float(np.asarray(value)[place.index])


def _scaled(params, factor):
    return tuple(Parameters(factor * p.weights, None if p.bias is None else factor * p.bias)
                 for p in params)


QUANTITIES = (
    Quantity("loss_before", Form.SCALAR, FIRST_STEP, "loss before",
             "E at the initial parameters", lambda r, lr: r.loss_before),
    Quantity("activations_before", Form.LAYERS, FIRST_STEP, "{}",
             "a_l of layer l at the initial parameters", lambda r, lr: r.activations_before,
             reported=False),
    Quantity("outputs_before", Form.OUTPUTS, FIRST_STEP, "{}", "a_L at the initial parameters",
             lambda r, lr: r.activations_before[-1], repeats=True),
    Quantity("pre_activations_before", Form.LAYERS, FIRST_STEP, "{} net",
             "z_l = a_{l−1} W_lᵀ + b_l at the initial parameters (the tutorials' net, Mazur's "
             "net_h1)", lambda r, lr: r.pre_activations_before, optional=True),
    Quantity("loss_terms_before", Form.OUTPUTS, FIRST_STEP, "{} term of E",
             "each sample's and output's term of E at the initial parameters (Mazur's E_o1 = "
             "½(t_o1 − o1)²); they sum to E", lambda r, lr: r.loss_terms_before, optional=True),
    Quantity("output_gradient", Form.OUTPUTS, FIRST_STEP, "{} ∂E/∂a",
             "∂E/∂a_L at the initial parameters, calculus sign (seed 002's Δ = prediction − "
             "actual)", lambda r, lr: -r.errors[-1], reported=False),
    Quantity("gradients", Form.PARAMETERS, FIRST_STEP, "∂E/∂{}",
             "∂E/∂W, ∂E/∂b at the initial parameters, over all samples",
             lambda r, lr: r.gradients, FIRST_UPDATE, trained_only=True),
    Quantity("updates", Form.PARAMETERS, FIRST_STEP, "η·∂E/∂{}",
             "η·∂E/∂W: what the first step subtracts (seed 002's a·Δ·h)",
             lambda r, lr: _scaled(r.gradients, lr), FIRST_UPDATE, reported=False,
             trained_only=True, repeats=True),
    Quantity("errors", Form.LAYERS, FIRST_STEP, "{} error",
             "e_l, the rule's error at layer l, tutorials' sign (e_L = t − a_L for half_sse)",
             lambda r, lr: r.errors, FIRST_UPDATE),
    Quantity("deltas", Form.LAYERS, FIRST_STEP, "{} δ",
             "δ_l = e_l ⊙ f′_l(z_l), the rule's delta at layer l, tutorials' sign (for the "
             "gradient, −∂E/∂z_l: Mazur's δ_o1 = ∂E/∂net_o1 with its sign flipped)",
             lambda r, lr: r.deltas, FIRST_UPDATE, optional=True),
    Quantity("params_after", Form.PARAMETERS, AFTER_STEPS, "{} after",
             "the parameters after the steps", lambda r, lr: r.params_after, TRAINING),
    Quantity("activations_after", Form.LAYERS, AFTER_STEPS, "{} after",
             "a_l after the steps", lambda r, lr: r.activations_after, TRAINING, reported=False),
    Quantity("outputs_after", Form.OUTPUTS, AFTER_STEPS, "{} after", "a_L after the steps",
             lambda r, lr: r.activations_after[-1], TRAINING, reported=False, repeats=True),
    Quantity("loss_after", Form.SCALAR, AFTER_STEPS, "loss after", "E after the steps",
             lambda r, lr: r.losses[..., -1], TRAINING),
    Quantity("losses", Form.SERIES, AFTER_STEPS, "loss after each step",
             "E after every step", lambda r, lr: r.losses, TRAINING),
)

BY_KEY = {q.key: q for q in QUANTITIES}
# What every backend reports for an example, in the order of the JSON.
REPORTED = tuple(q for q in QUANTITIES if q.reported)
# What ``intermediates`` reports, for a backend that has it.
INTERMEDIATE = tuple(q for q in QUANTITIES if q.optional)
# What a stacked step reports for every network of a stack (crosscheck sweep).
STACKED = tuple(BY_KEY[k] for k in ("loss_before", "gradients", "errors", "params_after",
                                    "loss_after"))
# What a published figure may name (a figure is one printed number, not a series).
FIGURES = tuple(q for q in QUANTITIES if q.form is not Form.SERIES)
