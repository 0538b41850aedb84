"""The backend registry: lazy imports by name, clear messages, and third-party backends.

A package registers its own backend under the entry-point group ``crosscheck.backends``. Here a
throw-away distribution (a ``.dist-info`` folder on sys.path) registers ``buggy``: the NumPy
reference with one deliberate bug, a gradient entry of layer 0 that is 1% off. The harness must
catch it and say which layer and which index.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import reference
from crosscheck import backends, examples
from crosscheck.cli import main
from crosscheck.runs import example as runs
from tests.helpers import load_backend

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


def register(tmp_path, monkeypatch, name: str, source: str) -> None:
    """A throw-away distribution on sys.path whose entry point names the module ``source``."""
    (tmp_path / f"{name}_backend.py").write_text(source)
    info = tmp_path / f"{name}_backend-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-backend\n"
                                   "Version: 0.0.1\n")
    (info / "entry_points.txt").write_text(f"[crosscheck.backends]\n{name} = {name}_backend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, f"{name}_backend", raising=False)


@pytest.fixture
def buggy_backend(tmp_path, monkeypatch):
    register(tmp_path, monkeypatch, "buggy", BUGGY)
    yield
    sys.modules.pop("buggy_backend", None)


def test_registered_backend_is_listed_and_its_bug_is_caught(buggy_backend, capsys):
    assert "buggy" in backends.names()
    example = examples.load(examples.find("seed002-linear"))
    report = runs.run(example, {"numpy": reference, "buggy": backends.load("buggy")})
    assert not report.ok and not report.agree
    worst = report.comparison.worst
    assert str(worst.place) == "gradients[layer 0].weights[1][0]"
    assert worst.backends == ("numpy", "buggy")
    assert worst.values[1] == pytest.approx(1.01 * worst.values[0], rel=1e-15)

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


# A backend that cannot do raw_error: one declares it, one only asserts (as a new user's might).
LIMITED = """
import reference
from reference import *  # noqa: F401,F403

NAME = "limited"
SUPPORTS = reference.Supports(rules=("exact", "proportional"))
"""

ASSERTING = """
import reference
from reference import *  # noqa: F401,F403

NAME = "asserting"


def gradients(net, X, T, loss_name, rule="exact", dtype="float64", lr=None):
    assert rule != "raw_error", "raw_error is not implemented"
    return reference.gradients(net, X, T, loss_name, rule, dtype, lr)
"""


def test_a_backend_that_declares_what_it_supports_is_skipped_for_the_rest(tmp_path, monkeypatch,
                                                                         capsys):
    register(tmp_path, monkeypatch, "limited", LIMITED)
    code = main(["run", "seed001-raw-error", "--backends", "numpy,limited", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and list(out["backends"]) == ["numpy"]
    assert out["skipped"] == {"limited": "not supported by limited: rule raw_error"}
    assert main(["run", "seed001-exact", "--backends", "numpy,limited"]) == 0
    assert "numpy, limited agree" in capsys.readouterr().out


def test_a_backend_that_raises_is_reported_and_the_other_examples_still_run(tmp_path,
                                                                           monkeypatch, capsys):
    """An AssertionError inside a backend is one line in the verdict (exception, message,
    file and line), exit 1; every other example of `run --all` is still computed and shown."""
    register(tmp_path, monkeypatch, "asserting", ASSERTING)
    code = main(["run", "--all", "--backends", "numpy,asserting"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert out.count("\n\n" + "OK") + out.count("\n\nFAIL") == len(examples.shipped())
    section = out.split("seed000 — ")[1]
    verdict = " ".join(next(p for p in section.split("\n\n") if p.startswith("FAIL")).split())
    assert "asserting FAILED: AssertionError: raw_error is not implemented (" in verdict
    assert "asserting_backend.py:" in verdict


def test_a_backend_that_lacks_a_function_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    register(tmp_path, monkeypatch, "partial", "def version():\n    return '1'\n"
                                              "def forward(net, X, dtype='float64'):\n"
                                              "    return ()\n")
    assert main(["run", "seed002-linear", "--backends", "numpy,partial"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "backend 'partial' (partial_backend) lacks loss, gradients, step, train" in err


@pytest.mark.parametrize("name", list(backends.BUILTIN))
def test_the_built_in_backends_keep_the_protocol_and_support_everything(name):
    module = load_backend(name)
    assert isinstance(module, backends.Backend)
    assert backends.supports(module) == reference.Supports()
    assert all(name in module.__all__ for name in (*backends.REQUIRED, "stacked_step"))


def test_a_backend_by_its_file_or_as_module_colon_object(tmp_path, monkeypatch, capsys):
    """No packaging: `--backends numpy,path/to/backend.py` and `module:object` load it, and
    the reports call it by its NAME."""
    (tmp_path / "planted.py").write_text(BUGGY.replace('NAME = "buggy"', 'NAME = "planted"'))
    code = main(["run", "seed002-linear", "--backends", f"numpy,{tmp_path / 'planted.py'}"])
    out = capsys.readouterr().out
    assert code == 1 and "numpy = -0.191112, planted = " in " ".join(out.split())
    (tmp_path / "holder.py").write_text("import reference as BACKEND\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["run", "seed002-linear", "--backends", "numpy,holder:BACKEND"]) == 0
    assert "numpy, holder:BACKEND agree" in capsys.readouterr().out   # NAME taken: as given
    assert main(["run", "seed002-linear", "--backends", "numpy,nowhere/x.py"]) == 2
    assert "backend 'nowhere/x.py': no such file" in capsys.readouterr().err
