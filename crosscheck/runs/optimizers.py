"""One optimizer under each framework's convention, side by side, and what makes them agree.

``compare(example, optimizer)`` trains the example's network with the NumPy reference of the
optimizer in the torch, optax and Keras conventions (``reference/optimizers.py``) and, for every
pair of conventions, measures per step the largest difference of any weight or bias. Where a
pair differs it tries the settings that remove each known difference, alone and two at a time,
and keeps the first that brings the pair within the long-run tolerance: for example RMSprop,
torch against optax, apart from step 1; ``eps_in_sqrt = false`` on the optax side makes them
agree, because optax puts ε inside the square root. The reason of each difference is stated
once, in ``REASONS``; the measurement says which ones apply.

Whether torch.optim and optax compute each convention as the reference does is what
``crosscheck run`` and ``tests/test_optimizers.py`` check; this command compares conventions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np

import reference
from crosscheck.compare.tolerances import AFTER_STEPS, TOLERANCE
from crosscheck.examples import Example
from reference.backprop import walk
from reference.optimizers import CONVENTIONS, HYPERPARAMETERS, Optimizer, check

# Each known difference between conventions: the setting that removes it, and why it matters.
REASONS = {
    "eps_in_sqrt": "optax puts RMSprop's ε inside the square root, √(v + ε); torch outside, "
                   "√v + ε",
    "eps": {"rmsprop": "Keras puts RMSprop's ε inside the square root, √(v + ε); torch outside",
            "adam": "Keras adds ε to √v before the bias correction: torch's and optax's update "
                    "with ε/√(1 − β2ᵗ) in place of ε, an ε that changes with the step"},
    "weight_decay": "Keras decays the weights decoupled, p ← p − ηλp; torch's and optax's SGD, "
                    "Adam and RMSprop add λp to the gradient (L2), which the momentum or the "
                    "moments then carry",
    "amsgrad": "optax's AMSGrad keeps the maximum of the bias-corrected v̂, torch's and Keras's "
               "the maximum of v",
}
# What each setting is set to, to remove its difference. ε goes to 1e-30, not to 0: 0 would
# divide 0 by 0 wherever a gradient entry is exactly 0 (XOR's inputs of 0 make many), and
# 1e-30 is as good as 0 beside any √v it meets.
NEUTRAL = {"eps_in_sqrt": False, "eps": 1e-30, "weight_decay": 0.0, "amsgrad": False}


@dataclass
class Trained:
    """One convention's run: the optimizer, the loss and the parameters after every step."""

    optimizer: Optimizer | None
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    params: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))   # (steps, all)
    problem: str = ""               # why this convention cannot express the optimizer


@dataclass
class Pair:
    """Two conventions: their largest parameter difference per step, and what reconciles them."""

    a: str
    b: str
    name: str                       # the optimizer's
    differences: np.ndarray
    apart_from: int | None          # the first step past the tolerance, or None
    reconciled_by: dict = field(default_factory=dict)
    reconciled_difference: float | None = None

    @property
    def why(self) -> str:
        return "; ".join(_reason(key, self.name) for key in self.reconciled_by)


@dataclass
class ConventionsReport:
    example: Example
    optimizer: Optimizer
    steps: int
    mode: str
    learning_rate: float
    tolerance: float
    runs: dict[str, Trained]
    pairs: list[Pair]
    ok: bool = True                 # a description: conventions that differ are not a failure


def _reason(key: str, name: str) -> str:
    reason = REASONS[key]
    return reason[name.replace("adamw", "adam")] if isinstance(reason, dict) else reason


def compare(example: Example, optimizer: Optimizer, steps: int, mode: str,
            lr: float) -> ConventionsReport:
    """Every convention of ``optimizer`` on ``example``'s network; see the module docstring."""
    runs = {c: _train(example, optimizer.under(c), steps, mode, lr) for c in CONVENTIONS}
    tolerance = TOLERANCE["float64", AFTER_STEPS]
    pairs = [_pair(example, runs, a, b, steps, mode, lr, tolerance)
             for a, b in itertools.combinations(CONVENTIONS, 2)
             if not runs[a].problem and not runs[b].problem]
    return ConventionsReport(example, optimizer, steps, mode, lr, tolerance, runs, pairs)


def _train(example: Example, optimizer: Optimizer, steps: int, mode: str, lr: float) -> Trained:
    """The reference's run, every step's parameters flattened into one row."""
    try:
        check(optimizer)
    except ValueError as exc:
        return Trained(None, problem=str(exc))
    net = reference.as_network(example.layers)
    X, T = (np.asarray(a, np.float64) for a in (example.inputs, example.targets))
    losses, params = np.empty(steps), np.empty((steps, sum(
        layer.weights.size + (0 if layer.bias is None else layer.bias.size) for layer in net)))
    with np.errstate(all="ignore"):     # ε = 0 may divide 0 by 0: a NaN the report shows
        for k, after in zip(range(steps), walk(net, X, T, example.loss, lr, "exact", mode,
                                               optimizer)):
            params[k] = np.concatenate([part.ravel() for layer in after
                                        for part in (layer.weights, layer.bias)
                                        if part is not None])
            losses[k] = reference.loss(after, X, T, example.loss)
    return Trained(optimizer, losses, params)


def _apart(a: Trained, b: Trained, tolerance: float) -> tuple[np.ndarray, int | None]:
    """Per step the largest |p_a − p_b|, and the first step past ``tolerance`` of the largest
    parameter (NaN counts as apart)."""
    differences = np.max(np.abs(a.params - b.params), axis=1)
    scale = np.max(np.abs(a.params), axis=1)
    past = np.flatnonzero(~(differences <= tolerance * scale))
    return differences, (int(past[0]) + 1 if past.size else None)


def _pair(example, runs, a, b, steps, mode, lr, tolerance) -> Pair:
    """Two conventions, and the fewest settings (one, then two) that make them agree."""
    differences, apart = _apart(runs[a], runs[b], tolerance)
    pair = Pair(a, b, runs[a].optimizer.name, differences, apart)
    if apart is None:
        return pair
    spec = runs[a].optimizer
    keys = [k for k in NEUTRAL
            if k in HYPERPARAMETERS[spec.name] and getattr(spec, k) != NEUTRAL[k]]
    for count in (1, 2):
        for chosen in itertools.combinations(keys, count):
            changed = {k: NEUTRAL[k] for k in chosen}
            left, right = (_train(example, _changed(runs[c].optimizer, changed), steps, mode, lr)
                           for c in (a, b))
            if left.problem or right.problem:
                continue
            after, still = _apart(left, right, tolerance)
            if still is None:
                pair.reconciled_by, pair.reconciled_difference = changed, float(np.max(after))
                return pair
    return pair


def _changed(optimizer: Optimizer, changed: dict) -> Optimizer:
    """``optimizer`` with ``changed`` applied where its convention has the setting
    (``eps_in_sqrt`` is optax's alone)."""
    if "eps_in_sqrt" in changed and optimizer.convention != "optax":
        changed = {k: v for k, v in changed.items() if k != "eps_in_sqrt"}
    return replace(optimizer, **changed)
