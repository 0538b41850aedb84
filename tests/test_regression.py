"""Regression across versions: `crosscheck diff`, the environment in every result, and no backend
dropped silently.

The version-like differences here are made by hand: a few units in the last place on every
gradient of one backend, as a new JAX release that sums in another order gives, and one number
off by 1e-9 of itself, as a real change does.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from crosscheck.cli import main
from tools import golden


@pytest.fixture(scope="module")
def run_doc():
    """`run seed001-exact --json` and `run xor --steps 3 --json`, as `run --all` prints them."""
    docs = []
    for argv in (["seed001-exact"], ["xor", "--steps", "3"]):
        done = subprocess.run([sys.executable, "-m", "crosscheck", "run", *argv, "--json"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        docs.append(json.loads(done.stdout))
    return {"examples": docs, "ok": True}


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def ulps_away(value: float, n: int) -> float:
    for _ in range(n):
        value = float(np.nextafter(value, np.inf))
    return value


def a_new_jax(doc, ulps=2, example="xor"):
    """Every gradient of JAX on one example moved by a few units in the last place."""
    doc = copy.deepcopy(doc)
    for each in doc["examples"]:
        each["environment"]["backends"]["jax"] = each["backends"]["jax"]["version"] = "0.99.0"
    run = next(r for r in doc["examples"] if r["example"] == example)
    for layer in run["backends"]["jax"]["gradients"]:
        layer["weights"] = [[ulps_away(v, ulps) for v in row] for row in layer["weights"]]
    return doc


def test_a_file_against_itself_moves_nothing(tmp_path, run_doc, capsys):
    a = write(tmp_path, "a.json", run_doc)
    assert main(["diff", a, a]) == 0
    out = capsys.readouterr().out
    assert "none of " in out and "numbers moved" in out and out.rstrip().endswith("OK: every "
                                                                                   "number agrees "
                                                                                   "within the "
                                                                                   "tolerance")


def test_a_version_like_difference_is_named_and_judged(tmp_path, run_doc, capsys):
    """A couple of ulps moved: within the policy (exit 0, but counted and the largest named);
    with --tolerance 0 every one is a difference, named with example, backend, place, ulps."""
    a, b = write(tmp_path, "a.json", run_doc), write(tmp_path, "b.json", a_new_jax(run_doc))
    assert main(["diff", a, b]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "9 of " in out and "the most, by 2 ulps: jax xor [exact, float64, 3 step(s)]" in out
    assert main(["diff", a, b, "--tolerance", "0", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert not doc["ok"] and len(doc["differences"]) == 2       # the two weight arrays
    first = doc["differences"][0]
    assert (first["example"], first["backend"], first["ulps"]) == ("xor", "jax", 2.0)
    assert first["where"].startswith("gradients[layer ")
    assert doc["b"]["environment"]["backends"]["jax"] == "0.99.0" != doc["a"]["environment"][
        "backends"]["jax"]                     # versions are shown, and are no difference


def test_a_real_change_fails_the_policy(tmp_path, run_doc, capsys):
    changed = copy.deepcopy(run_doc)
    weights = changed["examples"][0]["backends"]["torch"]["params_after"][1]["weights"]
    weights[0][2] *= 1 + 1e-9
    assert main(["diff", write(tmp_path, "a.json", run_doc),
                 write(tmp_path, "b.json", changed), "--json"]) == 1
    (found,) = json.loads(capsys.readouterr().out)["differences"]
    assert (found["backend"], found["where"], found["index"]) == (
        "torch", "params_after[layer 1].weights", [0, 2])


def test_a_backend_only_one_side_has_is_a_difference(tmp_path, run_doc, capsys):
    fewer = copy.deepcopy(run_doc)
    del fewer["examples"][1]["backends"]["jax"]
    assert main(["diff", write(tmp_path, "a.json", run_doc),
                 write(tmp_path, "b.json", fewer)]) == 1
    assert "only in A: xor [exact, float64, 3 step(s)] jax" in capsys.readouterr().out


def test_a_golden_file_against_a_run(tmp_path, capsys):
    done = subprocess.run([sys.executable, "-m", "crosscheck", "run", "seed002-linear",
                           "--backends", "numpy", "--json"], capture_output=True, text=True)
    run = write(tmp_path, "run.json", json.loads(done.stdout))
    assert main(["diff", str(golden.path_for("seed002-linear", "exact")), run]) == 0
    capsys.readouterr()


def test_make_golden_says_what_moved_before_it_writes(tmp_path):
    """The reference's record against the stored file: unchanged; against a file with one
    number 3 ulps off: that number, named, with its distance."""
    target = golden.path_for("seed002-linear", "exact")
    record = golden.record("seed002-linear", "exact")
    assert golden.moved(target, record) == "unchanged"
    assert record["backend"] == "numpy" and record["versions"]["numpy"] == np.__version__
    old = json.loads(target.read_text())
    row = old["results"]["params_after"][1]["weights"][0]
    row[1] = ulps_away(row[1], 3)
    (tmp_path / target.name).write_text(json.dumps(old))
    line = golden.moved(tmp_path / target.name, record)
    assert line.startswith("1 of ") and "the most by 3 ulps" in line, line
    assert line.endswith("(params_after[layer 1].weights[0][1])")
    assert golden.moved(tmp_path / "none.json", record) == "new"


@pytest.mark.parametrize("content", ["not json", '{"examples": [{"rule": "exact"}]}', "[]"],
                         ids=["not-json", "no-example", "a-list"])
def test_a_file_that_is_not_a_result_is_one_line_exit_2(tmp_path, capsys, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["diff", str(bad), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"crosscheck diff: {bad}: not a")


TORCH_MISSING = textwrap.dedent("""
    import sys
    sys.modules['torch'] = None          # import torch now raises ImportError
    from crosscheck.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def crosscheck_without_torch(*argv, env=None):
    """The CLI with torch unimportable; CROSSCHECK_REQUIRE_ALL as ``env`` says (CI sets it)."""
    import os

    base = {k: v for k, v in os.environ.items() if k != "CROSSCHECK_REQUIRE_ALL"}
    return subprocess.run([sys.executable, "-c", TORCH_MISSING, *argv], capture_output=True,
                          text=True, env={**base, **(env or {})})


def test_a_default_backend_that_cannot_load_is_said_and_recorded():
    done = crosscheck_without_torch("run", "seed002-linear", "--json")
    assert done.returncode == 0
    assert done.stderr.startswith("crosscheck: backend 'torch' skipped: needs torch")
    doc = json.loads(done.stdout)
    assert list(doc["backends"]) == ["numpy", "jax"] and "torch" in doc["skipped"]
    assert "pip install 'backprop-crosscheck[torch]'" in doc["skipped"]["torch"]
    assert doc["environment"]["skipped"] == doc["skipped"]


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_require_all_makes_a_missing_backend_exit_2(how):
    argv, env = (["--require-all"], None) if how == "flag" else ([], {"CROSSCHECK_REQUIRE_ALL":
                                                                      "1"})
    done = crosscheck_without_torch("run", "seed002-linear", *argv, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "crosscheck: --require-all: backend 'torch' needs torch, which cannot be imported "
        "(torch); install it with: pip install 'backprop-crosscheck[torch]'")


def test_every_result_carries_its_environment(tmp_path, capsys):
    for argv in (["run", "seed002-linear", "--backends", "numpy"],
                 ["sweep", "--count", "10", "--backends", "numpy", "--worst",
                  str(tmp_path / "w.toml")],
                 ["verify", "tests/students/xor_student.py", "--example", "xor", "--random",
                  "1"]):
        main([*argv, "--json"])
        env = json.loads(capsys.readouterr().out)["environment"]
        assert env["python"] == ".".join(map(str, sys.version_info[:3])), argv
        assert env["backends"]["numpy"] == np.__version__ and env["crosscheck"]
        assert env["tolerance"]["float64 first step"] == 256 * np.finfo(float).eps


def test_version_and_env(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("crosscheck 0.1.0")
    assert main(["env", "--json"]) == 0
    env = json.loads(capsys.readouterr().out)
    assert env["backends"]["numpy"] == np.__version__ and env["machine"]
    assert main(["env"]) == 0 and "backend numpy" in capsys.readouterr().out


def test_a_layer_only_one_side_has_is_a_difference(tmp_path, capsys):
    """A result with one layer of gradients less: that layer is named, not silently cut."""
    done = subprocess.run([sys.executable, "-m", "crosscheck", "run", "seed002-linear",
                           "--backends", "numpy", "--json"], capture_output=True, text=True)
    doc = json.loads(done.stdout)
    fewer = copy.deepcopy(doc)
    del fewer["backends"]["numpy"]["gradients"][1]
    assert main(["diff", write(tmp_path, "a.json", doc), write(tmp_path, "b.json", fewer),
                 "--json"]) == 1
    (found,) = json.loads(capsys.readouterr().out)["differences"]
    assert found["where"] == "gradients[layer 1].weights", found


def test_the_matrix_table_says_what_moved_and_what_does_not_run(tmp_path, run_doc):
    """tools.matrix on three made-up sessions: the pinned JAX, a JAX whose xor gradients moved
    by 2 ulps, and a NumPy under which the reference raised."""
    pytest.importorskip("nox")             # noxfile.py, which tools.matrix reads, imports it
    from tools import matrix

    pinned = f"jax-{matrix.PINNED['jax']}"
    write(tmp_path, f"{pinned}.json", run_doc)
    write(tmp_path, "jax-0.99.0.json", a_new_jax(run_doc))
    why = f"ValueError: no ({matrix.ROOT}/reference/x.py:1)"
    broken = {"examples": [{**run_doc["examples"][0], "backends": {}, "failed": {"numpy": why}}]}
    (tmp_path / "numpy-1.0.0.json").write_text("A framework's warning on stdout\n"
                                              + json.dumps(broken))     # skipped
    for name, line in [(pinned, "120 passed in 9.1s"), ("jax-0.99.0", "120 passed in 8.0s"),
                       ("numpy-1.0.0", "86 failed, 6 passed in 1.5s")]:
        (tmp_path / f"{name}.tests").write_text(line + "\n")
    rows = {line.split(" | ")[0]: line for line in matrix.table(tmp_path)[2:]}
    assert list(rows) == ["| numpy 1.0.0", "| jax 0.99.0", f"| jax {matrix.PINNED['jax']}"]
    assert rows["| jax 0.99.0"].startswith("| jax 0.99.0 | 120 passed | 9 of ")
    assert "| 2 ulps (jax xor, gradients[layer " in rows["| jax 0.99.0"]
    assert rows["| jax 0.99.0"].endswith("| agree |")
    assert rows["| numpy 1.0.0"] == ("| numpy 1.0.0 | 86 failed, 6 passed | does not run: numpy: "
                                     "ValueError: no (reference/x.py:1) | - | - |")
