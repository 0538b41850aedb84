"""Seconds per training run on every backend: XOR (2-3-1, online, 5,000 passes) and seed000.

Prints a table; ``--json`` prints one object ``{"runs": [{"example", "rule", "backend",
"first_s", "repeat_s", "updates_per_s"}], "versions": {...}}``. The first call includes JAX's
compilation; the repeat is the same call again (JAX reuses the compiled function).

    .venv/bin/python benchmarks/train_speed.py [--rules exact,raw_error] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import reference
from crosscheck import backends, examples


def timed(backend, example, rule):
    start = time.perf_counter()
    backend.train(example.layers, example.inputs, example.targets, example.loss,
                  example.learning_rate, rule, example.mode, example.steps)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", default="exact", help="comma-separated rules")
    parser.add_argument("--examples", default="xor,seed000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    modules = {name: backends.load(name) for name in backends.available()}
    runs = []
    for name in args.examples.split(","):
        example = examples.load(examples.find(name))
        updates = example.steps * (example.inputs.shape[0] if example.mode == "online" else 1)
        for rule in args.rules.split(","):
            assert rule in reference.RULES, rule
            for backend_name, module in modules.items():
                first = timed(module, example, rule)
                repeat = timed(module, example, rule)
                runs.append({"example": name, "rule": rule, "backend": backend_name,
                             "first_s": round(first, 4), "repeat_s": round(repeat, 4),
                             "updates_per_s": round(updates / repeat)})
    versions = {n: m.version() for n, m in modules.items()}
    if args.json:
        print(json.dumps({"runs": runs, "versions": versions}))
        return
    print("backends: " + " · ".join(f"{n} {v}" for n, v in versions.items()))
    print(f"{'example':<10} {'rule':<22} {'backend':<8} {'first s':>9} {'repeat s':>9} "
          f"{'updates/s':>10}")
    for r in runs:
        print(f"{r['example']:<10} {r['rule']:<22} {r['backend']:<8} {r['first_s']:>9.3f} "
              f"{r['repeat_s']:>9.3f} {r['updates_per_s']:>10,}")


if __name__ == "__main__":
    main()
