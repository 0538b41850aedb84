"""How far the tutorials' rules stray from the gradient, measured on every backend.

``measure(example, backends)`` returns a ``RulesReport`` with, for every rule:

* per layer, the cosine between the rule's first update and the true gradient (``exact``) and
  their relative difference ‖g_rule − g_exact‖ / ‖g_exact‖, at the initial parameters over all
  samples (weights and bias of a layer taken together);
* a training run with the example's settings: the loss after every step, the number of steps
  it takes to bring the loss to the threshold, and whether every output ends on the same side of
  0.5 as its target (the truth table, for XOR).

Every number comes from every backend, and the report says whether the backends agree on them
(1e-12 for the first update, the long-run tolerance of ``harness.TOLERANCE`` for the losses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from crosscheck.examples import Example
from crosscheck.harness import CHAOTIC, TOLERANCE, Agreement, Disagreement, Settings
from crosscheck.table import wrap
from reference.types import RULES, RULES_NEEDING_LR, RuleUndefined


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
    max_abs_diff: float = 0.0
    worst: Disagreement | None = None

    @property
    def ok(self) -> bool:
        return self.worst is None

    def to_json(self) -> dict:
        targets = self.example.targets
        return {
            "example": self.example.name, "dtype": self.settings.dtype,
            "steps": self.settings.steps, "mode": self.settings.mode,
            "learning_rate": self.settings.learning_rate, "threshold": self.threshold,
            "versions": self.versions,
            "alignment": [
                {"rule": rule, "layer": layer,
                 "cosine": {b: _finite(v[layer][0]) for b, v in per_backend.items()},
                 "relative_difference": {b: _finite(v[layer][1]) for b, v in per_backend.items()}}
                for rule, per_backend in self.alignment.items()
                for layer in range(len(self.example.layers))
            ],
            "training": [
                {"rule": rule, "backend": backend, "losses": [_finite(x) for x in run.losses],
                 "loss_after": _finite(run.losses[-1]) if run.losses.size else None,
                 "steps_to_threshold": run.steps_to(self.threshold),
                 "truth_table": run.truth_table(targets), "undefined": run.undefined or None}
                for rule, per_backend in self.training.items()
                for backend, run in per_backend.items()
            ],
            "max_abs_diff": self.max_abs_diff, "ok": self.ok,
        }


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


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
    """Measure every rule on every backend; see the module docstring."""
    settings = Settings.of(example, "exact", dtype, steps, mode, lr)
    report = RulesReport(example, settings, list(rules), threshold,
                         {name: module.version() for name, module in backends.items()})
    net, X, T = example.layers, example.inputs, example.targets
    for rule in rules:
        report.alignment[rule], report.training[rule] = {}, {}
        for name, backend in backends.items():
            if progress:
                progress(f"{rule} on {name}")
            exact = backend.gradients(net, X, T, example.loss, "exact", dtype)
            kwargs = {"lr": settings.learning_rate} if rule in RULES_NEEDING_LR else {}
            try:
                grads = backend.gradients(net, X, T, example.loss, rule, dtype, **kwargs)
                report.alignment[rule][name] = _alignment(exact, grads, len(net))
                final, losses = backend.train(net, X, T, example.loss, settings.learning_rate,
                                              rule, settings.mode, settings.steps, dtype)
                outputs = backend.forward(final, X, dtype)[-1]
                report.training[rule][name] = Training(np.asarray(losses, np.float64), outputs)
            except RuleUndefined as exc:
                report.alignment[rule].setdefault(name, [(math.nan, math.nan)] * len(net))
                report.training[rule][name] = Training(np.zeros(0), None, str(exc))
    _compare(report)
    return report


def _compare(report: RulesReport):
    """The largest difference between backends, and the worst one past its tolerance."""
    agreement, dtype = Agreement(), report.settings.dtype
    for rule in report.rules:
        names = list(report.alignment[rule])
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                agreement.add(f"{rule}: [cosine, relative difference] of layer", (a, b),
                              report.alignment[rule][a], report.alignment[rule][b],
                              TOLERANCE[(dtype, "first step")], nan_equal=True)
                left, right = report.training[rule][a].losses, report.training[rule][b].losses
                if left.size != right.size:
                    agreement.fail(f"{rule}: {left.size} vs {right.size} steps trained", (a, b))
                    continue
                n = CHAOTIC.get((report.example.name, rule), left.size)
                agreement.add(f"{rule}: losses", (a, b), left[:n], right[:n],
                              TOLERANCE[(dtype, "after steps")])
    report.max_abs_diff, report.worst = agreement.max_abs, agreement.worst


def render(report: RulesReport) -> str:
    """The two tables: the first update per layer, then the training runs."""
    example, settings = report.example, report.settings
    names = list(report.versions)
    lines = [
        f"{example.name} — the tutorials' rules against the exact gradient",
        "backends: " + " · ".join(f"{n} {report.versions[n]}" for n in names),
        "",
        "The first update, per layer (initial parameters, all samples; weights and bias):",
        "cosine = cos(g_rule, g), rel. diff = ‖g_rule − g‖ / ‖g‖, with g the true gradient",
    ]
    head = ["rule", "layer", *names, *names]
    rows = []
    for rule in report.rules:
        for layer in range(len(example.layers)):
            cells = [rule if layer == 0 else "", str(layer)]
            cells += [_fmt(report.alignment[rule][n][layer][0], ".6f").rjust(9)
                      for n in names]
            cells += [_fmt(report.alignment[rule][n][layer][1], ".4g").rjust(9)
                      for n in names]
            rows.append(cells)
    table = _table(head, rows)
    # A group header over each set of backend columns.
    group = len("  ".join(f"{n:>9}" for n in names))
    start = len(table[0]) - 2 * group - 2
    lines += [" " * start + f"{'cosine':>{group}}  {'rel. diff':>{group}}", *table]
    lines += [
        "",
        f"Training: {settings.steps} {settings.mode} step(s), learning rate "
        f"{settings.learning_rate:g}, loss {example.loss}, threshold {report.threshold:g}:",
    ]
    head = ["rule", "backend", "loss after", f"steps to ≤ {report.threshold:g}", "truth table"]
    rows = []
    for rule in report.rules:
        for i, name in enumerate(names):
            run = report.training[rule][name]
            if run.undefined:
                rows.append([rule if i == 0 else "", name, "undefined", "-", "-"])
                continue
            reached = run.steps_to(report.threshold)
            rows.append([rule if i == 0 else "", name, _fmt(run.losses[-1], ".6g"),
                         "never" if reached is None else str(reached),
                         "yes" if run.truth_table(example.targets) else "no"])
    lines += _table(head, rows)
    undefined = {run.undefined for per in report.training.values() for run in per.values()
                 if run.undefined}
    lines += [f"  {message}" for message in sorted(undefined)]
    if len(names) > 1:
        verdict = (f"OK: {', '.join(names)} agree on every number above and every loss of "
                   f"every step (largest difference {report.max_abs_diff:.1e})" if report.ok
                   else f"FAIL: backends DISAGREE: {report.worst}")
        for rule in report.rules:
            limit = CHAOTIC.get((example.name, rule))
            if limit and limit < settings.steps:
                verdict += (f"; except: {rule} is compared only over its first {limit} steps, "
                            "since its run is chaotic (rounding differences grow without bound; "
                            "see crosscheck/harness.py)")
    else:
        verdict = f"{names[0]} only: no second backend to compare"
    return "\n".join([*lines, "", wrap(verdict)])


def _fmt(value, spec):
    value = float(value)
    return format(value, spec) if math.isfinite(value) else "diverged" if not math.isnan(value) \
        else "-"


def _table(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = ["<", "<", *[">"] * (len(header) - 2)]
    out = ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(header, fmt, widths)).rstrip()]
    out += ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, fmt, widths)).rstrip() for r in rows]
    return out
