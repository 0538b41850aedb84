"""How far the tutorials' rules stray from the gradient, measured on every backend.

``measure(example, backends)`` returns a ``RulesReport`` with, for every rule:

* per layer, the cosine between the rule's first update and the true gradient (``exact``) and
  their relative difference ‖g_rule − g_exact‖ / ‖g_exact‖, at the initial parameters over all
  samples (weights and bias of a layer taken together);
* a training run with the example's settings: the loss after every step, the number of steps
  it takes to bring the loss to the threshold, and whether every output ends on the same side of
  0.5 as its target (the truth table, for XOR).

Every number comes from every backend, and the report says whether the backends agree on them
(the first step's tolerance for the first update, the long-run tolerance for the losses: see
``crosscheck/compare/tolerances.py``). The text and JSON of a report are in ``crosscheck/report``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from crosscheck.compare.comparison import Comparison
from crosscheck.compare.quantities import Place
from crosscheck.compare.tolerances import AFTER_STEPS, FIRST_STEP, TOLERANCE
from crosscheck.examples import Example
from crosscheck.runs.example import Settings
from reference.types import RULES, RuleUndefined


@dataclass
class Training:
    """One rule's training run on one backend."""

    losses: np.ndarray
    outputs: np.ndarray | None
    undefined: str = ""          # the RuleUndefined message, when the rule broke down

    def steps_to(self, threshold: float) -> int | None:
        below = np.flatnonzero(self.losses <= threshold)
        return int(below[0]) + 1 if below.size else None

    def truth_table(self, targets) -> bool:
        return self.outputs is not None and bool(
            np.all(np.isfinite(self.outputs)) and np.all((self.outputs > 0.5) == (targets > 0.5)))


@dataclass
class RulesReport:
    example: Example
    settings: Settings
    rules: list[str]
    threshold: float
    versions: dict[str, str]
    # alignment[rule][backend] = [(cosine, relative difference) per layer]
    alignment: dict[str, dict[str, list[tuple[float, float]]]] = field(default_factory=dict)
    # training[rule][backend] = Training
    training: dict[str, dict[str, Training]] = field(default_factory=dict)
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        return self.comparison is None or self.comparison.agree


def _flat(grads, layer):
    parts = [grads.weights[layer].ravel()]
    if grads.biases[layer] is not None:
        parts.append(grads.biases[layer].ravel())
    return np.concatenate(parts).astype(np.float64)


def _alignment(exact, rule_grads, depth):
    out = []
    for layer in range(depth):
        g, r = _flat(exact, layer), _flat(rule_grads, layer)
        norm_g, norm_r = np.linalg.norm(g), np.linalg.norm(r)
        cosine = float(g @ r / (norm_g * norm_r)) if norm_g and norm_r else math.nan
        relative = float(np.linalg.norm(r - g) / norm_g) if norm_g else math.nan
        out.append((cosine, relative))
    return out


def measure(example: Example, backends: dict, rules=RULES, threshold=0.01, dtype="float64",
            steps=None, mode=None, lr=None, progress=None) -> RulesReport:
    """Measure every rule on every backend; see the module docstring. ``progress(label, done,
    total)`` is called before each rule's runs and once when all are done."""
    settings = Settings.of(example, "exact", dtype, steps, mode, lr)
    report = RulesReport(example, settings, list(rules), threshold,
                         {name: module.version() for name, module in backends.items()})
    for done, rule in enumerate(rules):
        if progress:
            progress("rules", done, len(rules))
        report.alignment[rule], report.training[rule] = {}, {}
        for name, backend in backends.items():
            report.alignment[rule][name], report.training[rule][name] = _one(
                backend, example, settings, rule)
    if progress:
        progress("rules", len(rules), len(rules))
    report.comparison = _compare(report)
    return report


def _one(backend, example: Example, settings: Settings, rule: str):
    """One rule on one backend: the first update's alignment per layer, and the training."""
    net, X, T, dtype = example.layers, example.inputs, example.targets, settings.dtype
    exact = backend.gradients(net, X, T, example.loss, "exact", dtype)
    alignment = [(math.nan, math.nan)] * len(net)
    try:
        grads = backend.gradients(net, X, T, example.loss, rule, dtype,
                                  lr=settings.learning_rate)
        alignment = _alignment(exact, grads, len(net))
        final, losses = backend.train(net, X, T, example.loss, settings.learning_rate, rule,
                                      settings.mode, settings.steps, dtype)
    except RuleUndefined as exc:
        return alignment, Training(np.zeros(0), None, str(exc))
    outputs = backend.forward(final, X, dtype)[-1]
    return alignment, Training(np.asarray(losses, np.float64), outputs)


def _compare(report: RulesReport) -> Comparison:
    """Every backend against the first, on every measurement; a rule undefined on both is
    agreement (NaN against NaN), and a chaotic run is compared over its first steps only."""
    names, dtype = list(report.versions), report.settings.dtype
    comparison = Comparison(names[0])
    for rule in report.rules:
        n = report.example.chaotic_steps.get(rule)
        first, losses = report.alignment[rule][names[0]], report.training[rule][names[0]].losses
        for name in names[1:]:
            comparison.add_array(name, Place(f"{rule}: [cosine, relative difference] of layer"),
                                 first, report.alignment[rule][name],
                                 TOLERANCE[(dtype, FIRST_STEP)])
            comparison.add_array(name, Place(f"{rule}: losses"), losses[:n],
                                 report.training[rule][name].losses[:n],
                                 TOLERANCE[(dtype, AFTER_STEPS)])
    return comparison
