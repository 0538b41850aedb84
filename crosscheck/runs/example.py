"""Run one example on several backends, compare them number by number, check published figures.

``run(example, backends)`` returns a ``Report``: every backend's results, the largest difference
between any two backends, the published-figure checks and the verdict. ``Report.to_json()`` is the
object that ``crosscheck run --json`` prints (see docs/cli.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crosscheck.examples import Example, Figure
from crosscheck.figures import rounds_to
from reference.types import RULES_NEEDING_LR

# Agreement between backends, relative to max(1, |value|). float64 backends differ only by
# rounding order (about 1e-16 per operation); a missing factor or a flipped sign is O(1). Over
# a long training run rounding differences grow, hence the wider bound for results after many
# steps. float32 carries about 7 digits.
TOLERANCE = {
    ("float64", "first step"): 1e-12,
    ("float64", "after steps"): 1e-9,
    ("float32", "first step"): 1e-5,
    ("float32", "after steps"): 1e-4,
}

# The quantities every backend reports, in the order of the JSON; "first step" ones are computed
# at the initial parameters, "after steps" ones after the example's steps.
FIELDS = {
    "loss_before": "first step", "outputs_before": "first step", "gradients": "first step",
    "errors": "first step", "params_after": "after steps", "loss_after": "after steps",
    "losses": "after steps",
}


PER_LAYER_FIELDS = ("gradients", "errors", "params_after")

# Runs that are chaotic over the example's full length, so that no two float64 computations
# agree at the end, are stored and compared over fewer steps. seed000 under `proportional`:
# rows of incoming weights keep drifting through near-cancellation (a row sums to 0.012 after
# 5 passes, to 0.013 after 1,000), the rule divides by those sums, and rounding differences of
# 1e-16 grow on any two computations, the reference against itself with w/Σw computed as
# w·(1/Σw) included: weights differ by 2e-12 after 20 passes, 1e-9 after 50, 1e-2 after 600.
CHAOTIC = {("seed000", "proportional"): 20}


@dataclass
class Settings:
    """What a run computes: the example's own settings unless overridden."""

    rule: str
    dtype: str
    steps: int
    mode: str
    learning_rate: float

    @classmethod
    def of(cls, example: Example, rule=None, dtype="float64", steps=None, mode=None, lr=None):
        return cls(rule or example.rule, dtype, steps or example.steps, mode or example.mode,
                   lr or example.learning_rate)


@dataclass
class Disagreement:
    """The largest relative difference found between two backends, with where it is."""

    where: str
    backends: tuple[str, str]
    values: tuple[float, float]
    abs_diff: float
    rel_diff: float
    tolerance: float

    def __str__(self):
        a, b = self.backends
        return (f"{self.where}: {a} = {self.values[0]!r}, {b} = {self.values[1]!r}, "
                f"difference {self.abs_diff:.3g} (relative {self.rel_diff:.3g} > "
                f"{self.tolerance:g})")


@dataclass
class Check:
    figure: Figure
    computed: float
    holds: dict[str, bool]      # per backend: does the value round to the printed figure?

    @property
    def ok(self) -> bool:
        return all(held != self.figure.erratum for held in self.holds.values())


# What each published quantity depends on besides the network and the data: a figure is checked
# only when a run keeps those settings as the example gives them (a figure printed for one
# step says nothing about 300 steps, nor a proportional-rule error about the exact rule).
TRAINING = frozenset({"rule", "steps", "mode", "learning_rate"})
DEPENDS = {
    "loss_before": frozenset(), "outputs_before": frozenset(),
    "activations_before": frozenset(), "output_gradient": frozenset(),
    "errors": frozenset({"rule", "learning_rate"}),
    "gradients": frozenset({"rule", "learning_rate"}),
    "updates": frozenset({"rule", "learning_rate"}),
    "params_after": TRAINING, "outputs_after": TRAINING, "activations_after": TRAINING,
    "loss_after": TRAINING,
}


@dataclass
class Report:
    example: Example
    settings: Settings
    results: dict[str, dict]
    versions: dict[str, str]
    max_abs_diff: float
    worst: Disagreement | None
    checks: list[Check] = field(default_factory=list)
    skipped: list[Figure] = field(default_factory=list)   # figures of other settings

    @property
    def agree(self) -> bool:
        return self.worst is None

    @property
    def ok(self) -> bool:
        return self.agree and all(check.ok for check in self.checks)

    def to_json(self) -> dict:
        backends = {}
        for name, result in self.results.items():
            backends[name] = {"version": self.versions[name]}
            backends[name].update({key: _plain(result[key]) for key in (
                "loss_before", "outputs_before", "gradients", "errors", "params_after",
                "loss_after", "losses")})
        return {
            "example": self.example.name, "rule": self.settings.rule,
            "dtype": self.settings.dtype, "steps": self.settings.steps,
            "backends": backends, "max_abs_diff": self.max_abs_diff,
            "checks": [{"key": c.figure.key, "published": c.figure.printed,
                        "computed": c.computed, "ok": c.ok, "erratum": c.figure.erratum}
                       for c in self.checks],
            "ok": self.ok,
        }


class Diverged(ArithmeticError):
    """The loss of a training run became NaN or infinite."""

    def __init__(self, backend: str, step: int, value: float):
        self.backend, self.step, self.value = backend, step, value
        super().__init__(f"training diverged on {backend}: the loss is {value} after step {step}")


CHUNKS = 20


def train(backend, example: Example, settings: Settings, name: str = "", progress=None):
    """The example's training run on one backend, in up to CHUNKS calls of ``backend.train``.

    Gradient descent without momentum carries no state but the network, so a run in pieces is
    the same run; the pieces let a progress bar move, and a loss that becomes NaN or infinite
    stop the run with ``Diverged`` naming the step. ``progress(name, done, steps)`` is called
    after every piece.
    """
    net, X, T = example.layers, example.inputs, example.targets
    chunk = max(1, -(-settings.steps // CHUNKS))
    pieces, done = [], 0
    if progress:
        progress(name or backend.NAME, 0, settings.steps)
    while done < settings.steps:
        n = min(chunk, settings.steps - done)
        net, losses = backend.train(net, X, T, example.loss, settings.learning_rate,
                                    settings.rule, settings.mode, n, settings.dtype)
        losses = np.asarray(losses)
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            raise Diverged(name or backend.NAME, done + int(bad[0]) + 1, float(losses[bad[0]]))
        pieces.append(losses)
        done += n
        if progress:
            progress(name or backend.NAME, done, settings.steps)
    return net, np.concatenate(pieces)


def compute(backend, example: Example, settings: Settings, name: str = "",
            progress=None) -> dict:
    """Everything one backend reports for an example: before, first-step and after-steps values."""
    net, X, T, dtype = example.layers, example.inputs, example.targets, settings.dtype
    # Only a rule whose errors depend on the step itself takes the learning rate here.
    lr = {"lr": settings.learning_rate} if settings.rule in RULES_NEEDING_LR else {}
    grads = backend.gradients(net, X, T, example.loss, settings.rule, dtype, **lr)
    final, losses = train(backend, example, settings, name, progress)
    activations_before = backend.forward(net, X, dtype)
    activations_after = backend.forward(final, X, dtype)
    return {
        "loss_before": backend.loss(net, X, T, example.loss, dtype),
        "activations_before": list(activations_before),
        "outputs_before": activations_before[-1],
        "gradients": [{"weights": w, "bias": b} for w, b in zip(grads.weights, grads.biases)],
        "errors": list(grads.errors),
        "params_after": [{"weights": layer.weights, "bias": layer.bias} for layer in final],
        "activations_after": list(activations_after),
        "outputs_after": activations_after[-1],
        "loss_after": float(losses[-1]),
        "losses": np.asarray(losses),
    }


def value_of(result: dict, figure: Figure, learning_rate: float) -> float:
    """The computed number a published figure refers to."""
    q, layer, part, index = figure.quantity, figure.layer, figure.part, figure.index
    if q in ("loss_before", "loss_after"):
        return float(result[q])
    if q in ("outputs_before", "outputs_after"):
        return float(result[q][index])
    if q == "output_gradient":
        return float(-result["errors"][-1][index])
    if q in ("activations_before", "activations_after", "errors"):
        return float(result[q][layer][index])
    source = "params_after" if q == "params_after" else "gradients"
    value = float(result[source][layer][part][index])
    return learning_rate * value if q == "updates" else value


def run(example: Example, backends: dict, progress=None, **overrides) -> Report:
    """Compute the example on every backend (name -> module), compare, and check its figures."""
    settings = Settings.of(example, **overrides)
    results = {name: compute(module, example, settings, name, progress)
               for name, module in backends.items()}
    versions = {name: module.version() for name, module in backends.items()}
    max_abs_diff, worst = compare(results, settings.dtype)
    reference = next(iter(results))
    changed = {key for key in TRAINING
               if getattr(settings, key) != getattr(example, key)}
    kept = [f for f in example.figures if not DEPENDS[f.quantity] & changed]
    checks = [
        Check(figure, value_of(results[reference], figure, settings.learning_rate),
              {name: rounds_to(value_of(result, figure, settings.learning_rate), figure.printed)
               for name, result in results.items()})
        for figure in kept
    ]
    skipped = [f for f in example.figures if f not in kept]
    return Report(example, settings, results, versions, max_abs_diff, worst, checks, skipped)


def leaves(result: dict):
    """Yield (where, phase, array) for every compared quantity, e.g. ("gradients[1].weights", …)."""
    for key, phase in FIELDS.items():
        value = result[key]
        if key in PER_LAYER_FIELDS:
            for layer, item in enumerate(value):
                if isinstance(item, dict):
                    for part, array in item.items():
                        if array is not None:
                            yield f"{key}[layer {layer}].{part}", phase, np.asarray(array)
                else:
                    yield f"{key}[layer {layer}]", phase, np.asarray(item)
        else:
            yield key, phase, np.asarray(value)


class Agreement:
    """The largest difference between backends so far, and the worst one past its tolerance
    (relative to max(1, |value|)), with the place, the index and both values."""

    def __init__(self):
        self.max_abs, self.worst, self._excess = 0.0, None, 1.0

    def fail(self, where: str, pair: tuple[str, str]) -> None:
        """Something that cannot be compared at all, e.g. a bias only one backend reports."""
        self.worst, self._excess = Disagreement(where, pair, (np.nan, np.nan), np.inf, np.inf,
                                                0.0), np.inf

    def add(self, where, pair, x, y, tolerance, nan_equal=False) -> None:
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.shape != y.shape:
            return self.fail(f"{where}: shape {x.shape} vs {y.shape}", pair)
        diff = np.abs(x - y)
        if nan_equal:               # both undefined (a rule that broke down on both) is agreement
            diff = np.where(np.isnan(x) & np.isnan(y), 0.0, diff)
        if diff.size == 0:
            return None
        finite = diff[np.isfinite(diff)]
        if finite.size:
            self.max_abs = max(self.max_abs, float(finite.max()))
        rel = diff / np.maximum(1.0, np.abs(x))
        k = int(np.argmax(np.where(np.isfinite(rel), rel, np.inf)))
        if not rel.flat[k] <= tolerance * self._excess:
            self._excess = rel.flat[k] / tolerance if np.isfinite(rel.flat[k]) else np.inf
            index = "".join(f"[{j}]" for j in np.unravel_index(k, x.shape)) if x.shape else ""
            self.worst = Disagreement(where + index, pair, (float(x.flat[k]), float(y.flat[k])),
                                      float(diff.flat[k]), float(rel.flat[k]), tolerance)
        return None


def compare(results: dict, dtype: str):
    """The largest absolute difference between any two backends, and the worst disagreement."""
    agreement, names = Agreement(), list(results)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            left, right = list(leaves(results[a])), list(leaves(results[b]))
            places = {where for where, _, _ in left} ^ {where for where, _, _ in right}
            if places:        # a backend reported a bias (or a layer) that the other did not
                agreement.fail(f"{sorted(places)[0]} (reported by only one of them)", (a, b))
                continue
            for (where, phase, x), (_, _, y) in zip(left, right):
                agreement.add(where, (a, b), x, y, TOLERANCE[(dtype, phase)])
    return agreement.max_abs, agreement.worst


def _plain(value):
    """NumPy values as plain JSON numbers and nested lists."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist()
    return float(value)
