"""Every backend reproduces the stored float64 results (tests/golden/) by the policy of
``crosscheck run``: 1e-12 of each number's scale at the first step and after one step, 1e-9 after
a longer run (XOR's 20,000 updates).

The golden files were written by the NumPy reference under the framework versions they record.
A failure names the example, the rule, the backend and the quantity, and shows both numbers, so
a framework upgrade that changes a result says exactly what moved. Regenerate with
`make golden` after a deliberate change.
"""

from __future__ import annotations

import json

import pytest

import reference
from crosscheck import examples
from crosscheck.report.as_json import read_result
from tests.helpers import assert_results_agree
from tests.test_cross_backends import backend, example_of, results, scales
from tools import golden

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
    got = results(backend_name, name, rule, "float64", example_of(name).chaotic_steps.get(rule))
    assert_results_agree(got, read_result(doc["results"]), backend=f"{name} [{rule}] "
                         f"{backend_name}",
                         against=f"golden ({doc['backend']} under {doc['versions']})",
                         dtype="float64", steps=doc["steps"], scales=scales(name, rule))
