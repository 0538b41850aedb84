"""The JSON objects that ``--json`` prints (documented in docs/cli.md): plain numbers and lists,
NaN and infinities as null, quantities under their keys in the vocabulary."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from crosscheck.compare.comparison import Comparison, Disagreement
from crosscheck.compare.quantities import REPORTED, Parameters, Result
from crosscheck.report.environment import environment


def plain(value):
    """NumPy values and results' parameters as plain JSON numbers and nested lists."""
    if value is None:
        return None
    if isinstance(value, Parameters):
        return {"weights": plain(value.weights), "bias": plain(value.bias)}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist()
    return float(value)


def finite(value):
    """A number, or None where it is NaN or infinite (JSON has neither)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def result(res: Result) -> dict:
    """Every reported quantity of one backend's result, by key."""
    return {q.key: plain(q.value(res, 0.0)) for q in REPORTED}


def read_result(doc: dict) -> Result:
    """A backend's reported quantities, as ``result`` writes them, back as a Result (the
    outputs stand in for the activations, the only layer a JSON result holds)."""
    def array(value):
        return None if value is None else np.asarray(value, dtype=np.float64)

    def params(items):
        return tuple(Parameters(array(p["weights"]), array(p["bias"])) for p in items)

    def layers(key):     # an optional quantity: null, or absent from an older file
        return None if doc.get(key) is None else tuple(map(array, doc[key]))

    return Result(float(doc["loss_before"]), params(doc["gradients"]),
                  tuple(map(array, doc["errors"])), params(doc["params_after"]),
                  array(doc["losses"]), activations_before=(array(doc["outputs_before"]),),
                  pre_activations_before=layers("pre_activations_before"),
                  deltas=layers("deltas"), loss_terms_before=array(doc.get("loss_terms_before")))


def disagreement(found: Disagreement | None) -> dict | None:
    if found is None:
        return None
    return {"where": str(found.place.at(())), "index": list(found.place.index),
            "backends": list(found.backends), "values": [finite(v) for v in found.values],
            "abs_diff": finite(found.abs_diff), "rel_diff": finite(found.rel_diff),
            "tolerance": found.tolerance, "network": found.network,
            "problem": found.problem or None}


def comparison(found: Comparison) -> dict:
    return {"reference": found.reference, "max_abs_diff": found.max_abs_diff,
            "worst": disagreement(found.worst)}


def run(report) -> dict:
    """``crosscheck run NAME --json`` and ``check FILE --json``."""
    backends = {name: {"version": report.versions[name], **result(res)}
                for name, res in report.results.items()}
    return {
        "example": report.example.name, "rule": report.settings.rule,
        "dtype": report.settings.dtype, "steps": report.settings.steps,
        "optimizer": optimizer(report.settings.optimizer),
        "backends": backends, "reference": report.reference,
        "max_abs_diff": report.comparison.max_abs_diff,
        "worst": disagreement(report.comparison.worst),
        "checks": [{"key": c.figure.key, "published": c.figure.printed,
                    "computed": c.computed, "ok": c.ok, "erratum": c.figure.erratum,
                    **_tutorial(c.figure)} for c in report.checks],
        "not_checked": [{"key": f.key, "published": f.printed, "computed": _computed(report, f),
                         "printed_for": report.printed_for(f), **_tutorial(f)}
                        for f in report.skipped],
        "skipped": dict(report.unsupported), "failed": dict(report.failed),
        "hint": report.hint or None,
        "environment": environment(report.versions, report.unsupported),
        "ok": report.ok,
    }


def optimizer(spec) -> dict | None:
    """An optimizer as JSON: name, convention and every hyperparameter (null: plain descent)."""
    return None if spec is None else {**asdict(spec), "betas": list(spec.betas)}


def _tutorial(figure) -> dict:
    """The tutorial's own label for a figure and where it prints it (null without them)."""
    return {"tutorial_label": figure.own_label or None, "printed_at": figure.printed_at or None}


def _computed(report, figure):
    """The reference backend's value of a figure (null when no backend ran)."""
    result = report.results.get(report.reference)
    return None if result is None else finite(
        figure.quantity.number(result, report.settings.learning_rate, figure.place))


def rules(report) -> dict:
    """``crosscheck rules --json``."""
    targets = report.example.targets
    return {
        "example": report.example.name, "dtype": report.settings.dtype,
        "steps": report.settings.steps, "mode": report.settings.mode,
        "learning_rate": report.settings.learning_rate, "threshold": report.threshold,
        "versions": report.versions,
        "alignment": [
            {"rule": rule, "layer": layer,
             "cosine": {b: finite(v[layer][0]) for b, v in per_backend.items()},
             "relative_difference": {b: finite(v[layer][1]) for b, v in per_backend.items()}}
            for rule, per_backend in report.alignment.items()
            for layer in range(len(report.example.layers))
        ],
        "training": [
            {"rule": rule, "backend": backend, "losses": [finite(x) for x in run.losses],
             "loss_after": finite(run.losses[-1]) if run.losses.size else None,
             "steps_to_threshold": run.steps_to(report.threshold),
             "truth_table": run.truth_table(targets), "undefined": run.undefined or None}
            for rule, per_backend in report.training.items()
            for backend, run in per_backend.items()
        ],
        "max_abs_diff": report.comparison.max_abs_diff if report.comparison else 0.0,
        "worst": disagreement(report.comparison.worst) if report.comparison else None,
        "environment": environment(report.versions), "ok": report.ok,
    }


def optimizers(report) -> dict:
    """``crosscheck optimizers --json``."""
    return {
        "example": report.example.name, "optimizer": optimizer(report.optimizer),
        "steps": report.steps, "mode": report.mode, "learning_rate": report.learning_rate,
        "tolerance": report.tolerance,
        "conventions": [
            {"convention": c, "optimizer": optimizer(run.optimizer),
             "losses": [finite(x) for x in run.losses],
             "loss_after": finite(run.losses[-1]) if run.losses.size else None,
             "problem": run.problem or None}
            for c, run in report.runs.items()
        ],
        "pairs": [
            {"a": p.a, "b": p.b, "differences": [finite(x) for x in p.differences],
             "apart_from": p.apart_from, "why": p.why or None,
             "reconciled_by": p.reconciled_by or None,
             "reconciled_difference": finite(p.reconciled_difference)}
            for p in report.pairs
        ],
        "ok": True,
    }


def sweep(report) -> dict:
    """``crosscheck sweep --json``."""
    from crosscheck.runs.sweep import check_command

    worst = report.worst
    return {
        "count": report.count, "networks": report.networks,
        "shard": f"{report.shard[0]}/{report.shard[1]}", "seconds": round(report.seconds, 4),
        "per_second": round(report.per_second, 1), "max_abs_diff": finite(report.max_abs_diff),
        "max_rel_diff": None if worst is None else finite(worst.rel_diff),
        "tolerance": report.tolerance, "ok": report.ok,
        "disagreements": report.disagreements, "diverged": report.diverged,
        "seed": report.seed, "dtype": report.dtype, "backends": report.backends,
        "rules": report.rules, "optimizers": report.optimizers,
        "architectures": len(report.architectures),
        "per_architecture": report.per_architecture,
        "seconds_by_backend": {k: round(v, 4) for k, v in report.seconds_by_backend.items()},
        "setup_seconds": round(report.setup_seconds, 4),
        "skipped": dict(report.skipped),
        "environment": environment(report.versions, report.skipped),
        "worst": None if worst is None else {
            **disagreement(worst), "backend": worst.backends[1],
            "architecture": report.worst_architecture, "value": finite(worst.values[1]),
            "reference": finite(worst.values[0]), "file": report.worst_file,
            "check": check_command(report) if report.worst_file else None},
    }


def verify(report) -> dict:
    """``crosscheck verify --json``."""
    return {
        "ok": report.ok, "function": report.function, "example": report.example.name,
        "form": "step" if report.step else "gradients", "layout": report.layout,
        "probes": report.probes,
        "diagnosis": [{"mistake": d.mistake, "layer": d.layer, "explanation": d.explanation,
                       "fix": d.fix} for d in report.diagnosis],
        "mismatches": [{"probe": m.probe, "label": m.label, **disagreement(m.disagreement)}
                       for m in report.mismatches],
        "layers": [{"layer": i, "ok": ok} for i, ok in enumerate(report.layers_ok)],
        "environment": environment({"numpy": np.__version__}),
    }


def diff(report) -> dict:
    """``crosscheck diff --json``."""
    def moved(m):
        return None if m is None else {"example": m.key.example, "rule": m.key.rule,
                                       "dtype": m.key.dtype, "steps": m.key.steps,
                                       "backend": m.backend, "ulps": finite(m.ulps),
                                       **disagreement(m.disagreement)}

    return {"ok": report.ok, "compared": report.compared, "moved": report.moved,
            "largest": moved(report.largest),
            "differences": [moved(m) for m in report.differences],
            "only_in_a": report.only_in.get("A", []), "only_in_b": report.only_in.get("B", []),
            "a": {"file": report.a.file, "environment": report.a.environment},
            "b": {"file": report.b.file, "environment": report.b.environment}}
