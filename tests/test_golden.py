"""Every backend reproduces the stored float64 results (tests/golden/) to 1e-12.

The golden files were written by the NumPy reference under the framework versions they record.
A failure names the example, the rule, the backend and the quantity, and shows both numbers, so
a framework upgrade that changes a result says exactly what moved. Long training runs (XOR's
20,000 updates) get 1e-9, the cross-test bound for a full run; see test_cross_backends.py.
Regenerate with `make golden` after a deliberate change.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import reference
from crosscheck import examples, golden, harness
from tests.helpers import assert_close
from tests.test_cross_backends import backend, results

CASES = [(p.stem, rule) for p in examples.shipped() for rule in reference.RULES]


def test_every_example_and_rule_has_a_golden_file():
    missing = [str(golden.path_for(n, r).name) for n, r in CASES if not golden.path_for(n, r)
               .exists()]
    assert not missing, f"no golden file for {missing}; run `make golden`"


@pytest.mark.parametrize("backend_name", ["numpy", "torch", "jax"])
@pytest.mark.parametrize(("name", "rule"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_backend_reproduces_golden_results(name, rule, backend_name):
    if backend_name != "numpy":
        backend(backend_name)           # skips with the reason when the framework is missing
    doc = json.loads(golden.path_for(name, rule).read_text())
    stored = {key: doc["results"][key] for key in harness.FIELDS}
    got = results(backend_name, name, rule, "float64", harness.CHAOTIC.get((name, rule)))
    long_run = doc["steps"] > 1
    for (where, phase, x), (_, _, y) in zip(harness.leaves(got), harness.leaves(stored)):
        rtol = 1e-9 if long_run and phase == "after steps" else 1e-12
        assert_close(np.asarray(x), np.asarray(y, dtype=float), rtol=rtol,
                     backend=f"{name} [{rule}] {backend_name}",
                     against=f"golden (written under {doc['versions']})", quantity=where)
