"""`crosscheck verify`: hand-written functions checked against the reference, mistakes named.

The functions under check are in tests/students/, written as students write them (explicit
layers, loops over samples, their own names), not generated from the catalogue's code: each
correct one must pass (exit 0) and each mistaken one fail (exit 1) with its mistake first in
the diagnosis. The variant engine of the catalogue is itself checked against the reference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import crosscheck
import reference
from crosscheck.cli import main
from crosscheck.runs import mistakes
from tests.helpers import assert_close, random_network, suited

STUDENTS = Path(__file__).parent / "students"
XOR, MSE = str(STUDENTS / "xor_student.py"), str(STUDENTS / "mse_student.py")
TANH_MSE = str(Path(__file__).parent / "examples" / "tanh-mse.toml")
CLASSES = str(STUDENTS / "classification_student.py")
SOFTMAX = str(Path(__file__).parent / "examples" / "softmax-batch.toml")

CASES = [  # (file, function, example, mistake or None, its layer)
    (XOR, "gradients", "xor", None, None),
    (XOR, "step", "xor", None, None),
    (MSE, "gradients", TANH_MSE, None, None),
    (MSE, "step", TANH_MSE, None, None),
    (XOR, "forgot_half", "xor", "missing_half", None),
    (MSE, "forgot_the_two", TANH_MSE, "halved", None),
    (XOR, "averaged", "xor", "mean_over_samples", None),
    (MSE, "forgot_the_mean", TANH_MSE, "missing_mean", None),
    (XOR, "wrong_sign", "xor", "sign", None),
    (XOR, "transposed_hidden", "xor", "transposed", 0),
    (XOR, "errors_not_deltas", "xor", "raw_error", None),
    (XOR, "split_by_weights", "xor", "proportional", None),
    (XOR, "sigmoid_of_output", "xor", "slope_of_activation_output", None),
    (XOR, "output_delta_is_error", "xor", "missing_slope", 1),
    (XOR, "no_bias", "xor", "bias_not_trained", None),
    (XOR, "step_through_new_weights", "xor", "new_weights", None),
    (XOR, "step_uphill", "xor", "ascent", None),
    (XOR, "step_without_lr", "xor", "missing_learning_rate", None),
    (XOR, "step_all_at_once", "xor", "online_as_batch", None),
    (MSE, "step_sample_by_sample", TANH_MSE, "batch_as_online", None),
    (CLASSES, "softmax_gradients", SOFTMAX, None, None),
    (CLASSES, "bce_gradients", "xor-bce", None, None),
    (CLASSES, "softmax_forgot_the_mean", SOFTMAX, "missing_batch_mean", None),
    (CLASSES, "bce_forgot_the_mean", "xor-bce", "missing_batch_mean", None),
    (CLASSES, "softmax_applied_twice", SOFTMAX, "softmax_twice", None),
    (CLASSES, "bce_slope_kept", "xor-bce", "slope_not_cancelled", None),
]


def verify_json(capsys, *argv):
    code = main(["verify", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


@pytest.mark.parametrize(("path", "name", "example", "mistake", "layer"), CASES,
                         ids=[case[1] for case in CASES])
def test_a_hand_written_function_is_accepted_or_its_mistake_named(capsys, path, name, example,
                                                                  mistake, layer):
    code, doc, _ = verify_json(capsys, f"{path}:{name}", "--example", example)
    if mistake is None:
        assert code == 0 and doc["ok"] and doc["diagnosis"] == [] and doc["mismatches"] == []
        return
    assert code == 1 and not doc["ok"] and doc["mismatches"], doc
    first = doc["diagnosis"][0]
    assert (first["mistake"], first["layer"]) == (mistake, layer), doc["diagnosis"]
    assert first["explanation"] and first["fix"]


def test_the_json_has_the_documented_keys(capsys):
    code, doc, _ = verify_json(capsys, f"{XOR}:output_delta_is_error", "--example", "xor",
                               "--random", "3", "--seed", "5")
    assert code == 1 and set(doc) == {"ok", "function", "example", "form", "layout", "probes",
                                      "diagnosis", "mismatches", "layers", "environment"}
    assert doc["probes"] == 4 and doc["form"] == "gradients" and doc["example"] == "xor"
    assert set(doc["diagnosis"][0]) == {"mistake", "layer", "explanation", "fix"}
    mismatch = doc["mismatches"][0]
    assert mismatch["probe"] == "the example's own numbers" and mismatch["where"].startswith(
        "gradients[layer ")
    assert doc["layers"] == [{"layer": 0, "ok": False}, {"layer": 1, "ok": False}]


def test_without_a_known_mistake_the_first_differing_numbers_are_shown(tmp_path, capsys):
    path = tmp_path / "off.py"
    path.write_text("import importlib.util, sys\n"
                    f"sys.path.insert(0, {str(STUDENTS)!r})\nimport xor_student\n"
                    "def gradients(W, b, X, T):\n"
                    "    gw, gb = xor_student.gradients(W, b, X, T)\n"
                    "    gw[0] = gw[0] * 1.5\n    return gw, gb\n")
    code = main(["verify", str(path), "--example", "xor"])
    out = capsys.readouterr().out
    assert code == 1 and "No known mistake gives these numbers" in out
    assert "layer 0 WRONG, layer 1 right" in out
    assert "the example's own numbers: " in out and "gradients[layer 0].weights" in out


def test_the_seed002_layout_of_x_times_w(tmp_path, capsys):
    """Seed 002 writes x·W with W (inputs, outputs); --layout inputs-outputs passes the weights
    that way and reads the gradients back in it."""
    path = tmp_path / "seed002.py"
    path.write_text("def gradients(weights, biases, X, T):\n"
                    "    h = X @ weights[0]\n    prediction = h @ weights[1]\n"
                    "    delta = prediction - T\n"
                    "    return [X.T @ (delta @ weights[1].T), h.T @ delta], [None, None]\n")
    assert main(["verify", str(path), "--example", "seed002-linear", "--layout",
                 "inputs-outputs"]) == 0
    code = main(["verify", str(path), "--example", "seed002-relu"])
    assert code == 2            # in the project's layout the x·W product does not fit
    capsys.readouterr()


@pytest.mark.parametrize(("body", "message"), [
    ("    return 1.0", "returned a float; expected two lists"),
    ("    return [0.0], [None]", "returned a list of 1 for the weights; expected a list of 2"),
    ("    return [np.zeros((3, 3)), np.zeros((1, 3))], [None, None]",
     "returned layer 0's weights with shape (3, 3), expected (3, 2)"),
    ("    return [np.full((3, 2), np.nan), np.zeros((1, 3))], [None, None]",
     "returned a non-finite number for layer 0's weights[0][0]: nan"),
    ("    return [np.zeros((3, 2)), 'w'], [None, None]",
     "returned a str for layer 1's weights; expected an array of numbers"),
], ids=["not-a-pair", "too-few-layers", "wrong-shape", "nan", "not-numbers"])
def test_a_function_that_returns_what_cannot_be_read_is_one_line_exit_2(tmp_path, capsys, body,
                                                                        message):
    path = tmp_path / "bad.py"
    path.write_text(f"import numpy as np\n\n\ndef gradients(weights, biases, X, T):\n{body}\n")
    assert main(["verify", str(path), "--example", "xor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"crosscheck verify: {path}:gradients {message}" in err


def test_an_exception_in_the_users_code_shows_only_the_users_frames(tmp_path, capsys):
    path = tmp_path / "raises.py"
    path.write_text("import numpy as np\n\n\ndef helper(W):\n    return W[5]\n\n\n"
                    "def gradients(weights, biases, X, T):\n    return helper(weights)\n")
    assert main(["verify", str(path), "--example", "xor"]) == 2
    err = capsys.readouterr().err
    assert "raised IndexError" in err and "Traceback (the frames of your code):\n  File" in err
    assert f'File "{path}", line 9, in gradients' in err and "line 5, in helper" in err
    frames = err.split("Traceback", 1)[1].replace(str(path), "raises.py")   # tmp_path may say
    assert "crosscheck" not in frames.replace("crosscheck verify", "")         # crosscheck too


@pytest.mark.parametrize(("argv", "message"), [
    (["nowhere.py"], "nowhere.py: no such file"),
    (["{xor}:nothing"], "has no function 'nothing'; it defines "),
    (["no_such_module:gradients"], "no_such_module: cannot be imported"),
], ids=["file", "function", "module"])
def test_a_function_that_cannot_be_found_is_one_line_exit_2(capsys, argv, message):
    argv = [a.format(xor=XOR) for a in argv]
    assert main(["verify", *argv, "--example", "xor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_module_colon_name_and_framework_tensors(monkeypatch, capsys):
    """An importable module's function, returning torch tensors (detached and converted)."""
    torch = pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(STUDENTS))
    import xor_student

    def as_tensors(weights, biases, X, T):
        gw, gb = xor_student.gradients(weights, biases, X, T)
        return ([torch.tensor(g, requires_grad=True) * 1 for g in gw],
                [torch.tensor(g) for g in gb])

    assert crosscheck.verify(as_tensors, "xor", random=3).ok
    assert main(["verify", "xor_student:gradients", "--example", "xor", "--random", "3"]) == 0
    capsys.readouterr()


def test_the_python_api_reports_and_raises_from_the_users_code():
    sys.path.insert(0, str(STUDENTS))
    try:
        import xor_student
    finally:
        sys.path.remove(str(STUDENTS))
    report = crosscheck.verify(xor_student.averaged, example="xor", random=5)
    assert not report.ok and report.diagnosis[0].mistake == "mean_over_samples"
    assert "Diagnosis: mean_over_samples" in str(report)
    assert "<b style='color:#cf222e'>FAIL</b>" in report._repr_html_()

    def broken(weights, biases, X, T):
        return weights[7]

    with pytest.raises(IndexError) as raised:
        crosscheck.verify(broken, example="xor")
    # The caller's frame, the one of crosscheck.verify that raises, then the user's own.
    assert [entry.name for entry in raised.traceback][-2:] == ["verify", "broken"]


@pytest.mark.parametrize("seed", range(4))
def test_the_variant_engine_without_a_mistake_is_the_reference(seed):
    """mistakes.gradients and mistakes.step with no mistake give the reference's numbers, so
    a variant differs from the truth only by its mistake."""
    rng = np.random.default_rng(seed)
    net = random_network(rng, 3, list(reference.ACTIVATIONS), 3, bias_kinds=("present",
                                                                              "absent"))
    X, drawn = rng.normal(size=(4, 3)), rng.normal(size=(4, net[-1].weights.shape[0]))
    for loss in reference.LOSSES:
        net, T = suited(net, drawn, loss)
        want = reference.gradients(net, X, T, loss)
        grad_w, grad_b = mistakes.gradients(net, X, T, loss)
        for i in range(len(net)):
            assert_close(grad_w[i], want.weights[i], rtol=1e-13, layer=i, param="weights",
                         against="reference", quantity=f"variant engine {loss}")
            if want.biases[i] is not None:
                assert_close(grad_b[i], want.biases[i], rtol=1e-13, layer=i, param="bias",
                             against="reference", quantity=f"variant engine {loss}")
        for mode in reference.MODES:
            after = reference.step(net, X, T, loss, 0.1, mode=mode)
            weights, biases = mistakes.step(net, X, T, loss, 0.1, mode)
            for i, layer in enumerate(after):
                assert_close(weights[i], layer.weights, rtol=1e-13, layer=i, param="weights",
                             against="reference", quantity=f"variant step {loss} {mode}")
                if layer.bias is not None:
                    assert_close(biases[i], layer.bias, rtol=1e-13, layer=i, param="bias",
                                 against="reference", quantity=f"variant step {loss} {mode}")


def test_every_catalogue_mistake_is_named_by_a_test():
    """The catalogue and the table of students above stay in step."""
    named = {case[3] for case in CASES if case[3]}
    assert named == {m.id for m in mistakes.CATALOGUE}
