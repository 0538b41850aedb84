"""Numerical edge cases on every backend alike, determinism, and interrupted writes."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import reference
from crosscheck import atomic, examples
from crosscheck.report import summary
from crosscheck.runs import example as runs
from tests.helpers import load_backend

NAMES = ["numpy", "torch", "jax"]


# --- numerical edge cases ----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturating_activations_at_1e4(name, dtype, activation):
    """z = ±1e4: outputs exactly 0/1 (or ±1), slopes exactly 0, no NaN, no overflow."""
    net = (reference.Layer([[1.0], [-1.0]], None, activation),)
    X, T = [[1e4]], [[0.5, 0.5]]
    out = load_backend(name).forward(net, X, dtype)[-1]
    low = 0.0 if activation == "sigmoid" else -1.0
    assert out.tolist() == [[1.0, low]], f"{name} {dtype} {activation}: {out}"
    grads = load_backend(name).gradients(net, X, T, "half_sse", "exact", dtype)
    assert grads.weights[0].tolist() == [[0.0], [0.0]], f"{name}: saturated slope is not 0"


@pytest.mark.parametrize("name", NAMES)
def test_relu_exactly_at_zero_has_slope_zero(name):
    """z = 1·1 − 1·1 = 0 exactly: relu'(0) = 0, so no gradient reaches the weights."""
    net = (reference.Layer([[1.0, -1.0]], None, "relu"),)
    grads = load_backend(name).gradients(net, [[1.0, 1.0]], [[1.0]], "half_sse")
    assert grads.weights[0].tolist() == [[0.0, 0.0]]
    assert grads.errors[0].tolist() == [[1.0]]       # the error itself does arrive: t − a = 1


@pytest.mark.parametrize("name", NAMES)
def test_float32_underflow_and_overflow_alike(name, tmp_path):
    """float32: σ(−200) underflows to exactly 0; an identity layer overflows to inf, the same on
    every backend (never NaN), and a training run on it stops as Diverged, naming the step."""
    backend = load_backend(name)
    sig = (reference.Layer([[1.0]], None, "sigmoid"),)
    assert backend.forward(sig, [[-200.0]], "float32")[-1].tolist() == [[0.0]]
    big = (reference.Layer([[1e20]], None, "identity"),)
    with np.errstate(over="ignore"):     # NumPy warns of the overflow; the value is the point
        out = backend.forward(big, [[1e20]], "float32")[-1]
    assert out.dtype == np.float32 and np.isposinf(out).all()
    text = ('name = "overflow"\nloss = "sse"\nlearning_rate = 1.0\nsteps = 5\n[[layers]]\n'
            'activation = "identity"\nweights = [[1e20]]\n[data]\ninputs = [[1e20]]\n'
            'targets = [[0.0]]\n')
    path = tmp_path / "overflow.toml"
    path.write_text(text)
    example = examples.load(path)
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(runs.Diverged, match=f"on {name}: the loss is inf after step 1"):
        runs.compute(backend, example, runs.Settings.of(example, dtype="float32"), name)


# --- determinism ---------------------------------------------------------------------------------
def crosscheck_json(*args, seed="0"):
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-m", "crosscheck", *args, "--json"],
                          capture_output=True, env=env)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_numpy_runs_are_byte_identical_across_processes_and_hash_seeds():
    first = crosscheck_json("run", "--all", "--backends", "numpy", seed="0")
    again = crosscheck_json("run", "--all", "--backends", "numpy", seed="12345")
    assert first == again and len(first) > 100_000


def test_torch_and_jax_repeat_bit_for_bit_on_cpu():
    """On the CPU, a PyTorch or JAX computation repeated with the same inputs gives the same
    bits, in one process and across processes (docs/testing.md says what is not promised)."""
    for name in ("torch", "jax"):
        load_backend(name)
    first = crosscheck_json("run", "seed001-exact", "--backends", "torch,jax", seed="1")
    again = crosscheck_json("run", "seed001-exact", "--backends", "torch,jax", seed="2")
    assert first == again
    example = examples.load(examples.find("xor"))
    for name in ("torch", "jax"):
        backend = load_backend(name)
        runs = [backend.train(example.layers, example.inputs, example.targets, "half_sse", 0.5,
                              "exact", "online", 200)[1] for _ in range(2)]
        assert np.array_equal(*runs), name


# --- interrupted writes --------------------------------------------------------------------------
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "golden.json"
    target.write_text("the old, complete file\n")
    with pytest.raises(KeyboardInterrupt), atomic.replacing(target) as tmp:
        tmp.write_text("half of the new")
        raise KeyboardInterrupt
    assert target.read_text() == "the old, complete file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["golden.json"]


def test_an_interrupted_report_leaves_no_half_files(tmp_path, monkeypatch):
    """Ctrl-C while `run --report` draws its second plot: the first plot is whole, the summary
    is the previous one, and no temporary file is left."""
    report_dir = tmp_path / "out"
    report_dir.mkdir()
    (report_dir / "summary.md").write_text("previous summary\n")
    reports = [runs.run(examples.load(examples.find(n)), {"numpy": reference})
               for n in ("seed002-linear", "seed001-exact")]
    drawn = []
    real = summary.plots.training

    def interrupt_second(report, path):
        if drawn:
            raise KeyboardInterrupt
        drawn.append(path)
        real(report, path)

    monkeypatch.setattr(summary.plots, "training", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        summary.write(report_dir, reports)
    assert (report_dir / "summary.md").read_text() == "previous summary\n"
    assert sorted(p.name for p in report_dir.iterdir()) == ["seed002-linear.png", "summary.md"]
    assert (report_dir / "seed002-linear.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_written_files_get_the_permissions_of_any_new_file(tmp_path):
    """mkstemp makes private (0600) files; what atomic writes gets 0666 less the umask."""
    old = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "summary.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "summary.md").stat().st_mode & 0o777 == 0o644
