"""The backend registry: lazy imports by name, clear messages, and third-party backends.

A package registers its own backend under the entry-point group ``crosscheck.backends``. Here a
throw-away distribution (a ``.dist-info`` folder on sys.path) registers ``buggy``: the NumPy
reference with one deliberate bug, a gradient entry of layer 0 that is 1% off. The harness must
catch it and say which layer and which index.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import reference
from crosscheck import backends, examples, harness
from crosscheck.cli import main

BUGGY = '''
"""The reference with one planted bug: ∂E/∂W[0][1, 0] is 1% too large."""
import reference
from reference import *  # noqa: F401,F403

NAME = "buggy"


def version():
    return "0.0.1"


def gradients(net, X, T, loss_name, rule="exact", dtype="float64", lr=None):
    grads = reference.gradients(net, X, T, loss_name, rule, dtype, lr)
    grads.weights[0][1, 0] *= 1.01
    return grads
'''


@pytest.fixture
def buggy_backend(tmp_path, monkeypatch):
    (tmp_path / "buggy_backend.py").write_text(BUGGY)
    info = tmp_path / "buggy_backend-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: buggy-backend\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text("[crosscheck.backends]\nbuggy = buggy_backend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("buggy_backend", None)


def test_registered_backend_is_listed_and_its_bug_is_caught(buggy_backend, capsys):
    assert "buggy" in backends.names()
    example = examples.load(examples.find("seed002-linear"))
    report = harness.run(example, {"numpy": reference, "buggy": backends.load("buggy")})
    assert not report.ok and not report.agree
    assert report.worst.where == "gradients[layer 0].weights[1][0]"
    assert report.worst.backends == ("numpy", "buggy")
    assert report.worst.values[1] == pytest.approx(1.01 * report.worst.values[0], rel=1e-15)

    code = main(["run", "seed002-linear", "--backends", "numpy,buggy"])
    out = capsys.readouterr().out
    assert code == 1
    verdict = " ".join(out.split("\n\n")[-1].split())
    assert verdict.startswith("FAIL") and "gradients[layer 0].weights[1][0]" in verdict
    assert "numpy = -0.191112" in verdict and "buggy = " in verdict


@pytest.mark.parametrize("argv", [["train", "seed002-linear"], ["rules", "seed002-linear"]])
def test_train_and_rules_exit_1_on_the_planted_bug(buggy_backend, capsys, argv):
    code = main([*argv, "--backends", "numpy,buggy"])
    verdict = " ".join(capsys.readouterr().out.split("\n\n")[-1].split())
    assert code == 1 and verdict.startswith("FAIL") and "backends DISAGREE" in verdict, verdict


def test_unknown_backend_is_a_clear_error(capsys):
    code = main(["run", "seed002-linear", "--backends", "numpy,mxnet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "unknown backend 'mxnet'; known: numpy, torch, jax" in err


def test_missing_framework_is_a_clear_message():
    """With torch made unimportable, asking for it is exit 2 and one line saying how to get it."""
    code = textwrap.dedent("""
        import sys
        sys.modules['torch'] = None          # import torch now raises ImportError
        from crosscheck.cli import main
        sys.exit(main(['run', 'seed002-linear', '--backends', 'numpy,torch']))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "backend 'torch' needs torch" in lines[0]
    assert "pip install 'backprop-crosscheck[torch]'" in lines[0]


def test_frameworks_are_not_imported_until_asked_for():
    code = ("import sys; from crosscheck import backends; backends.load('numpy'); "
            "assert not {'torch', 'jax'} & set(sys.modules); backends.load('torch'); "
            "assert 'torch' in sys.modules and 'jax' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if "needs torch" in done.stderr:
        pytest.skip("torch is not installed")
    assert done.returncode == 0, done.stderr
