"""The crosscheck command: every bad input is one line naming file and key, exit 2; JSON shape;
exit codes 0 and 1 against figures we know to hold or not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crosscheck import examples
from crosscheck.cli import main
from crosscheck.examples import EXAMPLES_DIR

GOOD = """\
name = "tiny"
title = "A 2-2-1 network"
loss = "half_sse"
learning_rate = 0.5

[[layers]]
activation = "sigmoid"
weights = [[0.1, 0.2], [0.3, 0.4]]
bias = [0.5, 0.5]
names = [["w1", "w2"], ["w3", "w4"]]

[[layers]]
activation = "sigmoid"
weights = [[0.5, 0.6]]

[data]
inputs = [[0.05, 0.10]]
targets = [[0.01]]
"""

# (what, replace this, with this, the key the message must name)
BAD = [
    ("missing loss", 'loss = "half_sse"\n', "", "loss: missing"),
    ("missing learning rate", "learning_rate = 0.5\n", "", "learning_rate: missing"),
    ("missing weights", "weights = [[0.5, 0.6]]\n", "", "layers[1].weights: missing"),
    ("missing activation", 'activation = "sigmoid"\nweights = [[0.5',
     'weights = [[0.5', "layers[1].activation: missing"),
    ("missing data", "[data]\ninputs = [[0.05, 0.10]]\ntargets = [[0.01]]\n", "",
     "data: missing"),
    ("missing targets", "targets = [[0.01]]\n", "", "data.targets: missing"),
    ("unknown activation", 'activation = "sigmoid"\nweights = [[0.5',
     'activation = "softmax"\nweights = [[0.5', "layers[1].activation: unknown value 'softmax'"),
    ("unknown loss", 'loss = "half_sse"', 'loss = "l1"', "loss: unknown value 'l1'"),
    ("unknown rule", 'loss = "half_sse"', 'loss = "half_sse"\nrule = "hebb"', "rule: unknown"),
    ("unknown mode", 'loss = "half_sse"', 'loss = "half_sse"\nmode = "mini"', "mode: unknown"),
    ("misspelt key", "learning_rate = 0.5", "learning_rate = 0.5\nlearning_rat = 0.5",
     "learning_rat: unknown key; did you mean learning_rate?"),
    ("unknown key", "learning_rate = 0.5", "learning_rate = 0.5\nsmoothing = 0.9",
     "smoothing: unknown key; expected one of chaotic_steps, data, errata, expected, layers, "
     "layout, learning_rate, loss, mode, name, optimizer, rule, source, steps, title, tutorial"),
    ("optimizer setting at the top", "learning_rate = 0.5", "learning_rate = 0.5\nmomentum = 0.9",
     "momentum: unknown key; it belongs in the [optimizer] table"),
    ("misspelt layer key", "bias = [0.5, 0.5]", "biases = [0.5, 0.5]",
     "layers[0].biases: unknown key; did you mean bias?"),
    ("[layers] with one pair of brackets", "[[layers]]\nactivation = \"sigmoid\"\nweights = [[0.5",
     "[layers]\nactivation = \"sigmoid\"\nweights = [[0.5",
     "layers: written [layers], with one pair of brackets, which TOML reads as a single table; "
     "write each layer as [[layers]]"),
    ("the only layer as [layers]", GOOD[GOOD.index("[[layers]]"):GOOD.index("[data]")],
     '[layers]\nactivation = "sigmoid"\nweights = [[0.5, 0.6]]\n\n',
     "layers: written [layers], with one pair of brackets"),
    ("weights written (inputs, outputs)", "weights = [[0.5, 0.6]]", "weights = [[0.5], [0.6]]",
     "layers[1].weights: expected 2 columns per row to match layers[0] outputs (2), got 1 in "
     "row 0; it looks transposed: written (inputs, outputs), as seed 002 writes x·W?"),
    ("layout of the wrong shape", 'loss = "half_sse"',
     'loss = "half_sse"\nlayout = "inputs-outputs"',
     'layers[1].weights: expected 2 rows to match layers[0] outputs (2), layout = '
     '"inputs-outputs", got 1'),
    ("unknown layout", 'loss = "half_sse"', 'loss = "half_sse"\nlayout = "x·W"',
     "layout: unknown value 'x·W'; expected one of outputs-inputs, inputs-outputs"),
    ("ragged matrix", "[[0.1, 0.2], [0.3, 0.4]]", "[[0.1, 0.2], [0.3]]",
     "layers[0].weights: expected 2 columns per row"),
    ("mis-shaped matrix", "weights = [[0.5, 0.6]]", "weights = [[0.5, 0.6, 0.7]]",
     "layers[1].weights: expected 2 columns per row to match layers[0] outputs (2), got 3"),
    ("inputs wider than layer 0", "inputs = [[0.05, 0.10]]", "inputs = [[0.05, 0.10, 0.2]]",
     "layers[0].weights: expected 3 columns per row to match the width of data.inputs (3)"),
    ("nan weight", "[[0.5, 0.6]]", "[[0.5, nan]]", "layers[1].weights[0][1]: expected a finite"),
    ("inf input", "[[0.05, 0.10]]", "[[0.05, inf]]", "data.inputs[0][1]: expected a finite"),
    ("string weight", "[[0.5, 0.6]]", '[[0.5, "0.6"]]', "layers[1].weights[0][1]: expected a num"),
    ("zero learning rate", "learning_rate = 0.5", "learning_rate = 0",
     "learning_rate: must be > 0"),
    ("negative learning rate", "learning_rate = 0.5", "learning_rate = -0.1",
     "learning_rate: must be > 0"),
    ("nan learning rate", "learning_rate = 0.5", "learning_rate = nan",
     "learning_rate: expected a finite number"),
    ("target row of the wrong width", "targets = [[0.01]]", "targets = [[0.01, 0.2]]",
     "data.targets: expected 1 columns per row to match the outputs of layers[1] (1), got 2"),
    ("targets without a row per sample", "targets = [[0.01]]", "targets = [[0.01], [0.2]]",
     "data.targets: expected 1 rows (one per row of data.inputs), got 2"),
    ("bias of the wrong length", "bias = [0.5, 0.5]", "bias = [0.5]",
     "layers[0].bias: expected 2 entries, got 1"),
    ("TOML that does not parse", "learning_rate = 0.5", "learning_rate = = 0.5",
     "TOML does not parse"),
    ("bad name", 'name = "tiny"', 'name = "Tiny Net"', "name: 'Tiny Net'"),
    ("zero steps", "learning_rate = 0.5", "learning_rate = 0.5\nsteps = 0",
     "steps: expected an integer from 1"),
    ("train_bias without a bias", "weights = [[0.5, 0.6]]",
     "weights = [[0.5, 0.6]]\ntrain_bias = false", "layers[1].train_bias: given, but the layer"),
    ("unknown quantity", "targets = [[0.01]]", 'targets = [[0.01]]\n[expected]\nloss = "0.3"',
     "expected.loss: unknown key"),
    ("figure not a string", "targets = [[0.01]]",
     "targets = [[0.01]]\n[expected]\nloss_before = 0.3", "expected.loss_before: expected the "
     "figure as a string"),
    ("figure not a number", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nloss_before = "about 0.3"',
     "expected.loss_before: 'about 0.3' is not a number"),
    ("figure of the wrong shape", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\noutputs_before = ["0.7"]',
     "expected.outputs_before[0]: expected an array of 1 entries"),
    ("unknown parameter name", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nparams_after.w9 = "0.1"', "expected.params_after.w9: "
     "unknown key"),
    ("figure both expected and erratum", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nloss_before = "0.3"\n[errata]\nloss_before = "0.2"',
     "errata.loss_before: also given in [expected]"),
    ("optimizer not a table", "learning_rate = 0.5", 'learning_rate = 0.5\noptimizer = "adam"',
     "optimizer: expected a table"),
    *[(f"[optimizer] {what}", "targets = [[0.01]]", f"targets = [[0.01]]\n[optimizer]\n{table}",
       message) for what, table, message in [
        ("without a name", "", "optimizer.name: missing"),
        ("unknown name", 'name = "lion"', "optimizer.name: unknown value 'lion'; expected one "
         "of sgd, adam, adamw, rmsprop"),
        ("unknown convention", 'name = "adam"\nconvention = "tf"', "optimizer.convention: "
         "unknown value 'tf'; expected one of torch, optax, keras"),
        ("another optimizer's setting", 'name = "sgd"\nbetas = [0.9, 0.99]', "optimizer.betas: "
         "unknown key; expected one of convention, dampening, momentum, name, nesterov, "
         "weight_decay"),
        ("Keras's name", 'name = "rmsprop"\nrho = 0.9', "optimizer.rho: unknown key"),
        ("flag not true or false", 'name = "sgd"\nmomentum = 0.9\nnesterov = 1',
         "optimizer.nesterov: expected true or false, got a number (1)"),
        ("betas of three", 'name = "adam"\nbetas = [0.9, 0.99, 0.9]',
         "optimizer.betas: expected 2 entries, got 3"),
        ("momentum of 1", 'name = "sgd"\nmomentum = 1.0', "optimizer: optimizer betas, alpha "
         "and momentum must be below 1"),
        ("negative eps", 'name = "adam"\neps = -1e-8', "optimizer: optimizer eps must be a "
         "finite number >= 0"),
        ("nesterov without momentum", 'name = "sgd"\nnesterov = true', "optimizer: nesterov "
         "needs sgd with momentum > 0"),
        ("dampening outside torch", 'name = "sgd"\nconvention = "optax"\nmomentum = 0.9\n'
         'dampening = 0.1', "optimizer: dampening is torch's alone"),
        ("eps_in_sqrt outside optax", 'name = "rmsprop"\neps_in_sqrt = false',
         "optimizer: eps_in_sqrt = false is optax's rmsprop option alone"),
    ]],
    ("integer beyond 64 bits", "learning_rate = 0.5", "learning_rate = 1" + "0" * 400,
     "learning_rate: integer out of range"),
    ("integer of 5,000 digits", "learning_rate = 0.5", "learning_rate = 1" + "0" * 5000,
     "TOML does not parse"),
    ("nesting too deep", "targets = [[0.01]]", "targets = " + "[" * 5000 + "]" * 5000,
     "TOML nested too deeply"),
    ("figure with a huge exponent", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nloss_before = "1e999999999"',
     "expected.loss_before: '1e999999999' is not a number as printed"),
    ("figure with an underscore", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nloss_before = "0_1"',
     "expected.loss_before: '0_1' is not a number as printed"),
    ("the same figure twice", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nparams_after.w1 = "0.1"\n'
     'params_after.0.weights = [["0.1", "", ], ["", ""]]',
     "expected.params_after.0.weights[0][0]: the same number as params_after.w1"),
    ("layer index out of range", "targets = [[0.01]]",
     'targets = [[0.01]]\n[expected]\nerrors.2 = [["0.1"]]', "expected.errors.2: unknown key"),
]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err, *needles):
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


@pytest.mark.parametrize(("what", "old", "new", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_naming_file_and_key_and_exit_2(tmp_path, capsys, what, old, new,
                                                               message):
    assert old in GOOD, f"the test's own replacement does not apply: {old!r}"
    path = tmp_path / "my.toml"
    path.write_text(GOOD.replace(old, new, 1))
    code, out, err = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 2 and out == ""
    assert_one_line(err, f"{path}: ", message)


# A classifier: two logits, cross-entropy, one sample of class 1; each row below edits it.
CLASSIFIER = (GOOD.replace('loss = "half_sse"', 'loss = "cross_entropy"')
              .replace('activation = "sigmoid"\nweights = [[0.5, 0.6]]',
                       'activation = "identity"\nweights = [[0.5, 0.6], [0.1, -0.2]]')
              .replace("targets = [[0.01]]", "targets = [[0, 1]]"))
BAD_CLASSIFIER = [
    ("cross-entropy on a sigmoid output", [('"identity"', '"sigmoid"')],
     "layers[1].activation: loss cross_entropy reads the output layer's values as logits"),
    ("binary cross-entropy on a tanh output",
     [('"cross_entropy"', '"binary_cross_entropy"'), ('"identity"', '"tanh"')],
     "layers[1].activation: loss binary_cross_entropy reads the output layer's values as logits "
     "(identity) or probabilities (sigmoid); the output layer's activation must be identity or "
     "sigmoid, not tanh"),
    ("class probabilities not summing to 1", [("[[0, 1]]", "[[0.5, 0.4]]")],
     "data.targets: targets of cross_entropy must be rows of class probabilities, each summing "
     "to 1; a row sums to 0.9"),
    ("class label past the outputs", [("[[0, 1]]", "[2]")],
     "data.targets[0]: class label 2 is not one of the 2 outputs (0 to 1)"),
    ("a class label per sample", [("[[0, 1]]", "[1, 0]")],
     "data.targets: expected 1 class labels (one per row of data.inputs), got 2"),
    ("binary target past 1", [('"cross_entropy"', '"binary_cross_entropy_sum"'),
                              ("[[0, 1]]", "[[0, 1.5]]")],
     "data.targets: targets of binary_cross_entropy_sum must lie in [0, 1], got 1.5"),
]


def test_a_classifier_file_passes_with_class_labels_too(tmp_path, capsys):
    for targets in ("[[0, 1]]", "[1]"):
        path = tmp_path / "classifier.toml"
        path.write_text(CLASSIFIER.replace("[[0, 1]]", targets))
        code, _, err = run_cli(capsys, "check", str(path), "--backends", "numpy")
        assert code == 0, err


@pytest.mark.parametrize(("what", "edits", "message"), BAD_CLASSIFIER,
                         ids=[b[0] for b in BAD_CLASSIFIER])
def test_a_classifier_the_loss_cannot_read_is_one_line_naming_the_key(tmp_path, capsys, what,
                                                                       edits, message):
    text = CLASSIFIER
    for old, new in edits:
        assert old in text, f"the test's own edit does not apply: {old!r}"
        text = text.replace(old, new, 1)
    path = tmp_path / "classifier.toml"
    path.write_text(text)
    code, out, err = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 2 and out == ""
    assert_one_line(err, f"{path}: ", message)


def test_good_file_passes(tmp_path, capsys):
    path = tmp_path / "my.toml"
    path.write_text(GOOD)
    code, out, err = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 0 and err == ""
    assert "OK:" in out


def test_not_utf8_and_missing_file(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD.replace("A 2-2-1", "Ein Netz für").encode("latin-1"))
    code, _, err = run_cli(capsys, "check", str(path))
    assert code == 2
    assert_one_line(err, str(path), "not UTF-8")
    code, _, err = run_cli(capsys, "check", str(tmp_path / "nowhere.toml"))
    assert code == 2
    assert_one_line(err, "nowhere.toml", "cannot read")


def test_proportional_on_a_zero_weight_sum_is_exit_2(tmp_path, capsys):
    path = tmp_path / "zero.toml"
    path.write_text(GOOD.replace("[[0.5, 0.6]]", "[[0.5, -0.5]]"))
    code, _, err = run_cli(capsys, "check", str(path), "--rule", "proportional",
                           "--backends", "numpy")
    assert code == 2
    assert_one_line(err, str(path), "layer 1 neuron 0: its incoming weights sum to zero")


@pytest.mark.parametrize("argv", [
    ["run"], ["run", "seed002-linear", "--all"], ["run", "seed002-lineer"],
    ["run", "seed002-linear", "--dtype", "float16"], ["run", "seed002-linear", "--steps", "0"],
    ["run", "seed002-linear", "--lr", "-1"], ["run", "seed002-linear", "--backends", "tensorflow"],
    ["frobnicate"], ["run", "seed002-linear", "--colour"],
])
def test_usage_errors_are_one_line_and_exit_2(capsys, argv):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert_one_line(err)


def test_unknown_example_suggests_close_names(capsys):
    code, _, err = run_cli(capsys, "run", "seed002-lineer")
    assert code == 2
    assert_one_line(err, "unknown example 'seed002-lineer'", "did you mean seed002-linear")


@pytest.mark.parametrize("backends", ["numpy", "numpy,torch,jax"])
def test_run_prints_published_and_computed_and_marks_errata(capsys, backends):
    code, out, _ = run_cli(capsys, "run", "seed002-linear", "--backends", backends)
    assert code == 0
    assert "-0.0478" in out and "-0.04897245" in out and "erratum" in out
    assert max(len(line) for line in out.splitlines()) <= 100


JSON_KEYS = {"example", "rule", "dtype", "steps", "optimizer", "backends", "reference",
             "max_abs_diff", "worst", "checks", "not_checked", "skipped", "failed", "hint",
             "environment", "ok"}
BACKEND_KEYS = {"version", "loss_before", "outputs_before", "pre_activations_before",
                "loss_terms_before", "gradients", "errors", "deltas", "params_after",
                "loss_after", "losses"}


def test_json_has_the_documented_shape(capsys):
    code, out, _ = run_cli(capsys, "run", "seed002-linear", "--backends", "numpy", "--json")
    doc = json.loads(out)
    assert code == 0 and set(doc) == JSON_KEYS and doc["ok"] is True
    numpy = doc["backends"]["numpy"]
    assert set(numpy) == BACKEND_KEYS
    # ∂E/∂[w5, w6] = Δ·[h1, h2] = −0.7963·[1.23, 0.57]; no bias: null.
    assert numpy["gradients"][1]["bias"] is None
    assert numpy["gradients"][1]["weights"] == [pytest.approx([-0.979449, -0.453891], abs=1e-15)]
    assert len(numpy["losses"]) == doc["steps"] == 1
    assert numpy["losses"][-1] == numpy["loss_after"]
    # w5 = 0.11 − 0.05·(−0.7963·1.23): the JSON carries the full-precision value.
    assert numpy["params_after"][1]["weights"][0][0] == pytest.approx(0.15897245, abs=1e-15)
    check = next(c for c in doc["checks"] if c["key"] == "updates.w5")
    assert check == {"key": "updates.w5", "published": "-0.0478",
                     "computed": pytest.approx(-0.04897245, abs=1e-15), "ok": True,
                     "erratum": True, "tutorial_label": "a·Δ·h1",
                     "printed_at": "Backward Pass, [w5 w6] update"}
    assert doc["not_checked"] == []


def test_run_all_json(capsys):
    code, out, _ = run_cli(capsys, "run", "--all", "--backends", "numpy", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True
    assert {e["example"] for e in doc["examples"]} >= {"seed002-linear", "xor", "seed000"}


def test_a_figure_that_does_not_hold_exits_1(tmp_path, capsys):
    # tiny's first output: σ(0.5·σ(0.525) + 0.6·σ(0.61)) — about 0.6, not 0.9.
    path = tmp_path / "wrong.toml"
    path.write_text(GOOD + '\n[expected]\noutputs_before = [["0.9"]]\n')
    code, out, _ = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 1 and "FAILS" in out and out.split("\n\n")[-1].startswith("FAIL")


def test_an_erratum_that_holds_exits_1(tmp_path, capsys):
    # Seed 002's w5 after the step does round to 0.16, so calling it an erratum is wrong.
    text = (EXAMPLES_DIR / "seed002-linear.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(text.replace('params_after.w5 = "0.16"\n', "") + 'params_after.w5 = "0.16"\n')
    code, out, _ = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 1 and "rounds to print" in out


def test_list_names_every_shipped_example(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == sorted(
        p.stem for p in EXAMPLES_DIR.glob("*.toml"))


def test_console_script_and_numpy_run_import_no_framework():
    """The installed `crosscheck` and a numpy-only run import neither torch nor jax."""
    code = ("import sys; from crosscheck.cli import main; rc = main(['run', '--all', "
            "'--backends', 'numpy']); sys.stdout.flush(); "
            "assert not {'torch', 'jax'} & set(sys.modules), sorted(sys.modules); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    script = Path(sys.executable).with_name("crosscheck")
    done = subprocess.run([str(script), "list"], capture_output=True, text=True)
    assert done.returncode == 0 and "seed002-linear" in done.stdout, done.stderr


def test_reference_imports_only_numpy():
    code = ("import sys, reference; bad = {m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'jax', 'jaxlib', 'optax', 'crosscheck', 'torch_impl', 'jax_impl'}; "
            "assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_show_is_readable_and_imports_no_framework():
    code = ("import sys; from crosscheck.cli import main; assert main(['list']) == 0; "
            "rc = main(['show', 'seed002-linear']); "
            "assert not {'torch', 'jax'} & set(sys.modules); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "h1         ← w1=0.12  w2=0.33" in out and "prediction ← w5=0.11  w6=0.12" in out
    assert "[2, 3] → [1]" in out and "updates.w5" in out and "erratum" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize("command", ["list", "show", "run", "check", "train", "rules"])
def test_every_command_has_help_with_an_example(capsys, command):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"crosscheck {command}" in out.split("examples:")[1]


def test_full_table_shows_every_number(capsys):
    code, out, _ = run_cli(capsys, "run", "seed002-linear", "--backends", "numpy", "--full")
    assert code == 0
    # ∂E/∂w1 = Δ·i1·w5 = −0.7963·2·0.11; w6 after = 0.12 + 0.05·0.7963·0.57
    assert "∂E/∂w1" in out and "-0.175186" in out
    assert "w6 after" in out and "0.14269455" in out
    assert "h1 error" in out and "prediction error" in out


def test_train_prints_the_loss_per_step_and_draws_two_panels(tmp_path, capsys):
    png = tmp_path / "train.png"
    code, out, err = run_cli(capsys, "train", "xor", "--steps", "50", "--backends", "numpy",
                             "--plot", str(png))
    assert code == 0 and err == ""
    assert "Loss after each step shown:" in out and f"plot: {png}" in out
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    assert [row[0] for row in rows] == ["1", "2", "5", "10", "20", "50"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diverging_training_names_the_step_and_backend(tmp_path, capsys):
    """E = (w·x − t)², so a step w ← w − η·2(w·x − t)·x turns the error e = w·x − t into
    e·(1 − 2ηx²) = −39·e (η = 5, x = 2). From e = −0.4 the loss after step k is 0.16·39^(2k),
    past the largest float64 (1.8e308) from k = 98 on."""
    path = tmp_path / "diverge.toml"
    path.write_text('name = "diverge"\nloss = "sse"\nlearning_rate = 5.0\nsteps = 1000\n'
                    '[[layers]]\nactivation = "identity"\nweights = [[0.3]]\n'
                    '[data]\ninputs = [[2.0]]\ntargets = [[1.0]]\n')
    code, out, err = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 1 and out == ""
    assert_one_line(err, "diverge: training diverged on numpy: the loss is", "after step")
    assert int(err.split("after step ")[1]) == 98


def test_report_folder_has_a_summary_and_plots(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "run", "--all", "--backends", "numpy", "--report",
                           str(tmp_path / "out"))
    assert code == 0 and f"report: {tmp_path / 'out' / 'summary.md'}" in out
    summary = (tmp_path / "out" / "summary.md").read_text()
    for path in EXAMPLES_DIR.glob("*.toml"):
        assert f"## {path.stem}" in summary
        assert (tmp_path / "out" / f"{path.stem}.png").stat().st_size > 10_000
    assert "| [seed002-linear](#seed002-linear) | exact | 1 | 15/15 hold | 4/4 confirmed |" \
        in summary
    assert not list((tmp_path / "out").glob("*.tmp*"))


def test_a_figure_on_a_named_frozen_bias_is_refused(tmp_path, capsys):
    path = tmp_path / "frozen.toml"
    path.write_text(GOOD.replace("bias = [0.5, 0.5]\n", 'bias = [0.5, 0.5]\ntrain_bias = false\n'
                                 'bias_names = ["b1", "b2"]\n')
                    + '\n[expected]\ngradients.b1 = "0.1"\n')
    code, _, err = run_cli(capsys, "check", str(path), "--backends", "numpy")
    assert code == 2
    assert_one_line(err, f"{path}: expected.gradients.b1: b1 is the bias of layers[0], which is "
                         "held fixed")


@pytest.mark.parametrize("argv", [
    ["run", "seed002-linear", "--steps", "1000000000000"],
    ["train", "seed002-linear", "--plot", "/nonexistent/folder/x.png"],
    ["rules", "seed002-linear", "--plot", "/nonexistent/x.png"],
    ["run", "seed002-linear", "--report", __file__],
])
def test_impossible_outputs_and_sizes_are_refused_before_computing(capsys, argv):
    code, out, err = run_cli(capsys, *argv, "--backends", "numpy")
    assert code == 2 and out == ""
    assert_one_line(err, f"crosscheck {argv[0]}: argument")


# --- fixed on the way (each test failed before its fix) ----------------------------------------
def test_a_reader_that_goes_away_ends_the_run_quietly():
    """`crosscheck run --all --json | head -1`: no "cannot write", no traceback; the exit
    status is the shell's for a closed pipe (141), not 2 (bad input). The JSON (over 100 kB)
    is more than a pipe holds, so the write meets the closed pipe."""
    command = [sys.executable, "-m", "crosscheck", "run", "--all", "--backends", "numpy",
               "--json"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read().decode()
        code = process.wait()
    assert first and code == 141 and err == "", (code, err)


def test_help_is_plain_text_and_explains_every_rule(capsys):
    for command in ([], ["run"], ["check"], ["rules"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "``" not in out, command
        if command in (["run"], ["check"]):
            for rule in ("exact: the chain rule", "raw_error: the errors, not the deltas",
                         "proportional: each error split", "raw_error_new_weights: raw_error"):
                assert rule in out, (command, rule)


def test_steps_zero_is_zero_not_the_examples_steps():
    from crosscheck.runs.example import Settings

    example = examples.load(examples.find("xor"))
    assert Settings.of(example, steps=0).steps == 0
    assert Settings.of(example).steps == example.steps == 5000
