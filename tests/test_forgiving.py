"""Example files that forgive: a name taken from the file, weights written as x·W (seed 002's
layout) read with `layout = "inputs-outputs"` or named as looking transposed, and `run` and
`check` each taking a name or a file. (Misspelt keys and `[layers]` are rows of the table of bad
inputs in tests/test_cli.py.)

The figures checked here are Mazur's and seed 002's printed numbers (docs/hand-calculation.toml
and crosscheck/examples/seed002-linear.toml), data we own.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from crosscheck import examples
from crosscheck.cli import main

# docs/hand-calculation.toml written as x·W: row i holds the weights out of input i.
MAZUR_XW = """\
title = "Mazur's 2-2-2 network, weights written (inputs, outputs)"
loss = "half_sse"
learning_rate = 0.5
{layout}
[[layers]]
activation = "sigmoid"
weights = [[0.15, 0.25], [0.20, 0.30]]
bias = [0.35, 0.35]
train_bias = false
names = [["w1", "w3"], ["w2", "w4"]]

[[layers]]
activation = "sigmoid"
weights = [[0.40, 0.50], [0.45, 0.55]]
bias = [0.60, 0.60]
train_bias = false
names = [["w5", "w7"], ["w6", "w8"]]

[data]
inputs = [[0.05, 0.10]]
targets = [[0.01, 0.99]]

[expected]
outputs_before = [["0.75136507", "0.772928465"]]
gradients.w5 = "0.082167041"
params_after.w1 = "0.149780716"
"""

# Seed 002 as the tutorial prints its matrices: [[w1 w3] [w2 w4]] and [[w5] [w6]].
SEED002_XW = """\
loss = "half_sse"
learning_rate = 0.05
layout = "inputs-outputs"

[[layers]]
activation = "identity"
weights = [[0.12, 0.15], [0.33, 0.09]]
names = [["w1", "w3"], ["w2", "w4"]]

[[layers]]
activation = "identity"
weights = [[0.11], [0.12]]
names = [["w5"], ["w6"]]

[data]
inputs = [[2, 3]]
targets = [[1]]

[expected]
params_after.0.weights = [["0.13", "0.16"], ["0.34", "0.10"]]
params_after.1.weights = [["0.16"], ["0.14"]]
"""


def check(capsys, path, *argv):
    code = main(["check", str(path), "--backends", "numpy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_file_without_a_name_is_named_after_the_file(tmp_path, capsys):
    path = tmp_path / "My_Net.toml"
    path.write_text(MAZUR_XW.format(layout='layout = "inputs-outputs"'))
    code, out, _ = check(capsys, path, "--json")
    assert code == 0 and json.loads(out)["example"] == "my-net"


def test_seed002_written_as_the_tutorial_prints_it_is_the_shipped_example(tmp_path, capsys):
    """Read with layout = "inputs-outputs", the x·W file is the shipped seed002-linear: the same
    (outputs, inputs) weights, the same names in the same places, and its printed matrices
    after the step hold."""
    path = tmp_path / "seed002-xw.toml"
    path.write_text(SEED002_XW)
    mine, shipped = examples.load(path), examples.load(examples.find("seed002-linear"))
    for a, b in zip(mine.layers, shipped.layers):
        np.testing.assert_array_equal(a.weights, b.weights)
    assert mine.names.weights == shipped.names.weights
    places = {f.key: f.place for f in mine.figures}
    for key, name in (("params_after.0.weights[1][0]", "w2"), ("params_after.0.weights[0][1]",
                                                                "w3")):
        assert (places[key].layer, places[key].part, places[key].index) == \
            shipped.names.parameters()[name]
    code, out, _ = check(capsys, path)
    assert code == 0, out
    assert "6/6 published figures hold" in out


def test_a_square_matrix_written_the_other_way_round_gets_a_hint(tmp_path, capsys):
    """Every matrix of Mazur's network is square, so x·W loads as it is, and the figures fail;
    read as (inputs, outputs) every one holds, and the verdict says so."""
    path = tmp_path / "mazur.toml"
    path.write_text(MAZUR_XW.format(layout=""))
    code, out, _ = check(capsys, path, "--json")
    doc = json.loads(out)
    assert code == 1 and not all(c["ok"] for c in doc["checks"])
    assert doc["hint"].startswith("every published figure holds when the weights are read as "
                                  "(inputs, outputs)")
    code, out, _ = check(capsys, path)
    assert "Hint: every published figure holds" in " ".join(out.split())
    path.write_text(MAZUR_XW.format(layout='layout = "inputs-outputs"'))
    code, out, _ = check(capsys, path, "--json")
    assert code == 0 and json.loads(out)["hint"] is None


def test_figures_that_fail_for_another_reason_get_no_hint(tmp_path, capsys):
    path = tmp_path / "mazur.toml"
    path.write_text(MAZUR_XW.format(layout="").replace('"0.082167041"', '"0.09"'))
    code, out, _ = check(capsys, path, "--json")
    assert code == 1 and json.loads(out)["hint"] is None


@pytest.mark.parametrize("command", ["run", "check"])
def test_run_and_check_each_take_a_name_or_a_file(tmp_path, capsys, command):
    path = tmp_path / "mine.toml"
    path.write_text(MAZUR_XW.format(layout='layout = "inputs-outputs"'))
    for target, name in ((path, "mine"), ("seed002-linear", "seed002-linear")):
        code = main([command, str(target), "--backends", "numpy", "--json"])
        assert code == 0 and json.loads(capsys.readouterr().out)["example"] == name
