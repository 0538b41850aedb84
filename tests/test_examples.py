"""Every shipped example's published figures at their printed precision, and its errata confirmed.

The published strings are data we own (the TOML files), copied from the tutorials or worked out
by hand from their printed numbers; nothing here is produced by the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import reference
from crosscheck import examples
from crosscheck.runs import example as runs

SHIPPED = examples.shipped()


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.stem}-numpy" for p in SHIPPED])
def test_published_figures_hold_and_errata_are_confirmed(path):
    example = examples.load(path)
    report = runs.run(example, {"numpy": reference})
    wrong = [f"{c.figure.key} ({c.figure.label}): printed {c.figure.printed}, numpy computes "
             f"{c.computed!r}, " + ("but it rounds to the print, so it is no erratum"
                                    if c.figure.erratum else "which does not round to it")
             for c in report.checks if not c.ok]
    assert not wrong, f"{example.name}:\n" + "\n".join(wrong)


def test_every_shipped_example_says_where_its_numbers_come_from():
    for path in SHIPPED:
        example = examples.load(path)
        assert example.source.strip() and example.title.strip(), path.name
        assert path.stem == example.name, f"{path.name} holds the example {example.name!r}"


def test_seed002_errata_are_exactly_the_products_that_do_not_round():
    """Seed 002 prints eleven products a·Δ·(…) and weights; four of them are off."""
    example = examples.load(examples.find("seed002-linear"))
    errata = {f.key for f in example.figures if f.erratum}
    assert errata == {"updates.w5", "updates.w6", "updates.w1", "updates.w3"}


def test_seed002_relu_variant_differs_only_in_the_hidden_activation():
    """Same weights, data, settings and printed figures; relu in the hidden layer."""
    linear = examples.load(examples.find("seed002-linear"))
    relu = examples.load(examples.find("seed002-relu"))
    assert [layer.activation for layer in linear.layers] == ["identity", "identity"]
    assert [layer.activation for layer in relu.layers] == ["relu", "identity"]
    for a, b in zip(linear.layers, relu.layers):
        assert a.weights.tolist() == b.weights.tolist() and a.bias is b.bias is None
    assert linear.inputs.tolist() == relu.inputs.tolist() == [[2.0, 3.0]]
    assert (linear.loss, linear.learning_rate, linear.steps) == (relu.loss, relu.learning_rate,
                                                                 relu.steps)
    assert [(f.key, f.printed, f.erratum) for f in relu.figures] == \
        [(f.key, f.printed, f.erratum) for f in linear.figures]


def test_the_docs_hand_calculation_holds_on_every_backend():
    """docs/hand-calculation.toml: Mazur's printed figures, the intermediates among them (net_h1,
    E_o1, δ_o1), each checked on NumPy, PyTorch and JAX, which also agree with each other."""
    from crosscheck import backends

    path = Path(__file__).resolve().parent.parent / "docs" / "hand-calculation.toml"
    example = examples.load(path)
    keys = {f.quantity.key for f in example.figures}
    assert {"pre_activations_before", "loss_terms_before", "deltas"} <= keys
    loaded, _ = backends.defaults()
    report = runs.run(example, loaded)
    failing = [f"{c.figure.key}: printed {c.figure.printed}, computed {c.computed!r} "
               f"{c.holds}" for c in report.checks if not c.ok]
    assert not failing and report.agree and len(report.checks) == len(example.figures), failing
