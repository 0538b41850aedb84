"""The measurement behind the tolerance policy (crosscheck/compare/tolerances.py).

For random networks (the sweep's draw; deeper ones of 5-10 layers; saturated ones, whose
weights are scaled so that sigmoid and tanh neurons sit near 0 and 1) and for every shipped
example under every rule, every number of one step is computed on every backend and compared
with the NumPy reference, relative to the magnitude of the terms it is computed from
(crosscheck/compare/magnitudes.py). Printed: per kind and backend, the largest difference in
units of the dtype's rounding (ε: 2.2e-16 in float64, 1.2e-7 in float32), and how many networks
differ by more than the policy allows. Networks whose step blows up are counted apart.

    .venv/bin/python benchmarks/tolerances.py [--architectures 100] [--networks 200] [--json]

float32 is measured both ways: a float32 backend against the float32 reference (what
``crosscheck sweep --dtype float32`` does) and against the float64 reference (what the tests
and ``crosscheck run --dtype float32`` against a float64 run do).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import reference
from crosscheck import backends, examples
from crosscheck.compare.comparison import Comparison
from crosscheck.compare.magnitudes import magnitudes
from crosscheck.compare.tolerances import FIRST_STEP, TOLERANCE
from crosscheck.runs import sweep

EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}


def draws(kind: str, rng, count: int):
    """``count`` (architecture, group) draws of one kind."""
    for _ in range(count):
        arch = sweep.draw_architecture(rng)
        if kind == "deep":
            depth = int(rng.integers(5, 11))
            widths = tuple(int(w) for w in rng.integers(1, 17, size=depth + 1))
            arch = dataclasses.replace(
                arch, widths=widths, learning_rate=sweep.learning_rate(-3.0, widths),
                activations=tuple(str(a) for a in rng.choice(reference.ACTIVATIONS, depth)),
                biases=tuple(str(b) for b in rng.choice(sweep.BIAS_KINDS, depth)))
        yield arch


def scaled(group, factor):
    stack, X, T = group
    return tuple(layer._replace(weights=layer.weights * factor) for layer in stack), X, T


def measure(kind, modules, dtype, against, architectures, networks, seed):
    """The worst ratio (difference / terms / ε) per backend, and networks past the policy."""
    rng = np.random.default_rng(seed)
    worst = dict.fromkeys(modules, 0.0)
    past, compared, blew = dict.fromkeys(modules, 0), 0, 0
    for arch in draws(kind, rng, architectures):
        group = sweep.draw_group(rng, arch, networks)
        if kind == "saturated":
            group = scaled(group, 4.0)
        run = (arch.loss, arch.learning_rate, arch.rule, arch.mode)
        try:
            ref = sweep.as_result(reference.stacked_step(*group, *run, dtype=against))
        except reference.RuleUndefined:
            continue
        keep = ~sweep.diverged(ref)
        blew += int((~keep).sum())
        compared += int(keep.sum())
        for name, module in modules.items():
            result = sweep.as_result(module.stacked_step(*group, *run, dtype=dtype))
            one = sweep.compare_group(arch, group, {"numpy": ref, name: result}, dtype, keep)
            if one.per_network is not None and one.per_network.size:
                tol = TOLERANCE[(dtype, FIRST_STEP)]
                worst[name] = max(worst[name], float(one.per_network.max()) * tol / EPS[dtype])
                past[name] += int((one.per_network > 1).sum())
    return {"kind": kind, "dtype": dtype, "against": against, "networks": compared,
            "diverged": blew, "worst_in_eps": worst, "past_tolerance": past}


def shipped(modules, dtype):
    """The same ratio over every shipped example under every rule (one step)."""
    from crosscheck.compare.quantities import REPORTED
    from crosscheck.runs import example as runs

    worst = dict.fromkeys(modules, 0.0)
    for path in examples.shipped():
        example = examples.load(path)
        for rule in reference.RULES:
            settings = runs.Settings.of(example, rule=rule, dtype=dtype, steps=1)
            ref = runs.compute(reference, example, runs.Settings.of(example, rule=rule, steps=1))
            scales = magnitudes(example.layers, example.inputs, example.targets, example.loss,
                                rule, example.learning_rate, ref)
            for name, module in modules.items():
                one = Comparison("numpy", ref, quantities=REPORTED, dtype=dtype, steps=1,
                                 scales=scales)
                one.add(name, runs.compute(module, example, settings))
                tol = TOLERANCE[(dtype, FIRST_STEP)]
                worst[name] = max(worst[name], one.worst.excess * tol / EPS[dtype])
    return {"kind": "shipped examples", "dtype": dtype, "against": "float64",
            "worst_in_eps": worst}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--architectures", type=int, default=100)
    parser.add_argument("--networks", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    modules = {name: backends.load(name) for name in ("torch", "jax")}
    rows = [shipped(modules, "float64"), shipped(modules, "float32")]
    with np.errstate(all="ignore"):
        for seed, kind in enumerate(("sweep", "deep", "saturated")):
            for dtype, against in (("float64", "float64"), ("float32", "float32"),
                                   ("float32", "float64")):
                rows.append(measure(kind, modules, dtype, against, args.architectures,
                                    args.networks, seed))
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'kind':<17} {'dtype':<8} {'against':<8} {'networks':>9} {'diverged':>8}  worst in "
          "units of ε (networks past the tolerance)")
    for row in rows:
        cells = ", ".join(f"{name} {row['worst_in_eps'][name]:.3g}"
                          + (f" ({row['past_tolerance'][name]})" if "past_tolerance" in row
                             else "") for name in row["worst_in_eps"])
        print(f"{row['kind']:<17} {row['dtype']:<8} {row['against']:<8} "
              f"{row.get('networks', '-'):>9} {row.get('diverged', '-'):>8}  {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
