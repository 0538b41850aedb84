"""`crosscheck rules`: the divergence measurements against closed forms derived by hand.

Seed 001's network has one sigmoid output o and a hidden layer whose gradient is linear in the
error it receives. Its exact hidden error is e·o(1 − o)·w, raw_error's is e·w and proportional's
is e·w/Σw (Σw = 1.3), so the hidden layer's updates are parallel (cosine 1) and
‖g_raw − g‖/‖g‖ = 1/(o(1 − o)) − 1, ‖g_prop − g‖/‖g‖ = 1/(1.3·o(1 − o)) − 1, with o = 0.92.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import reference
from crosscheck import backends, examples
from crosscheck.cli import main
from crosscheck.runs import rules

OUT = 0.92000001          # seed001's output, σ(Σ w·h + b) with its bias, to 8 digits


def available():
    found = {"numpy": reference}
    for name in ("torch", "jax"):
        try:
            found[name] = backends.load(name)
        except backends.BackendUnavailable:
            pass
    return found


@pytest.fixture(scope="module")
def seed001():
    example = examples.load(examples.find("seed001-exact"))
    return rules.measure(example, available())


def test_seed001_hidden_updates_match_the_closed_forms(seed001):
    for name in seed001.versions:
        raw, prop = seed001.alignment["raw_error"][name], seed001.alignment["proportional"][name]
        assert raw[0][0] == pytest.approx(1, abs=1e-12)
        assert prop[0][0] == pytest.approx(1, abs=1e-12)
        assert raw[0][1] == pytest.approx(1 / (OUT * (1 - OUT)) - 1, rel=1e-6), name
        assert prop[0][1] == pytest.approx(1 / (1.3 * OUT * (1 - OUT)) - 1, rel=1e-6), name


def test_every_rule_shares_the_top_layer_update(seed001):
    for rule in reference.RULES:
        for name in seed001.versions:
            cosine, relative = seed001.alignment[rule][name][-1]
            assert cosine == pytest.approx(1, abs=1e-12) and relative < 1e-12, (rule, name)


def test_backends_agree_on_every_measurement(seed001):
    assert seed001.ok, str(seed001.comparison.worst)


def test_raw_error_is_exact_on_seed002():
    """Identity layers above the first: raw_error is the gradient, proportional is not."""
    report = rules.measure(examples.load(examples.find("seed002-linear")), {"numpy": reference})
    assert report.alignment["raw_error"]["numpy"][0][1] == 0
    # proportional divides e·w5 and e·w6 by w5 + w6 = 0.23: (1/0.23 − 1) = 3.348.
    assert report.alignment["proportional"]["numpy"][0][1] == pytest.approx(1 / 0.23 - 1,
                                                                            rel=1e-12)


def test_steps_to_threshold_and_truth_table():
    run = rules.Training(np.array([0.5, 0.2, 0.009, 0.011, 0.001]), np.array([[0.1], [0.7]]))
    assert run.steps_to(0.01) == 3 and run.steps_to(0.0001) is None
    assert run.truth_table(np.array([[0.0], [1.0]]))
    assert not run.truth_table(np.array([[1.0], [1.0]]))


def test_xor_table_from_every_backend_agreeing(capsys):
    """The command on XOR (shortened to 300 passes to keep the suite quick)."""
    code = main(["rules", "xor", "--steps", "300", "--threshold", "0.2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "cos(g_rule, g)" in out and "rel. diff" in out and "truth table" in out
    assert out.split("\n\n")[-1].startswith("OK: ")
    assert max(len(line) for line in out.splitlines()) <= 100


def test_json_and_plot(tmp_path, capsys):
    png = tmp_path / "rules.png"
    code = main(["rules", "xor", "--backends", "numpy", "--steps", "50", "--json",
                 "--plot", str(png)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"] is True and doc["steps"] == 50
    assert {a["rule"] for a in doc["alignment"]} == set(reference.RULES)
    assert all(len(t["losses"]) == 50 for t in doc["training"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_a_rule_that_breaks_down_is_reported_not_raised(tmp_path, capsys):
    """proportional on an output neuron whose weights sum to zero: undefined, named."""
    path = tmp_path / "zero.toml"
    path.write_text((examples.EXAMPLES_DIR / "xor.toml").read_text()
                    .replace("[[0.8, -0.6, 0.7]]", "[[0.5, -0.25, -0.25]]"))
    code = main(["rules", str(path), "--backends", "numpy", "--steps", "5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "proportional rule: layer 1 neuron 0: its incoming weights sum to zero" in out


def test_unknown_rule_is_exit_2(capsys):
    assert main(["rules", "xor", "--rules", "exact,hebb"]) == 2
    assert "expected rules from" in capsys.readouterr().err


def test_progress_is_called_as_the_progress_bar_takes_it():
    """measure reports (label, done, total) before each rule and at the end, the signature of
    crosscheck.report.progress.Progress, which draws it."""
    import io

    from crosscheck.report.progress import Progress

    calls, stream = [], io.StringIO()
    bar = Progress("xor", stream=stream, enabled=True, delay=0.0, unit="rules")

    def record(label, done, total):
        calls.append((label, done, total))
        bar(label, done, total)

    rules.measure(examples.load(examples.find("xor")), {"numpy": reference},
                  ["exact", "raw_error"], steps=3, progress=record)
    assert calls == [("rules", 0, 2), ("rules", 1, 2), ("rules", 2, 2)]
    assert "xor rules: [" in stream.getvalue() and "1/2 rules" in stream.getvalue()
