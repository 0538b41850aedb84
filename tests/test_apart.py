"""A framework's padded steps computed apart, in a process of its own (runs/apart.py).

* The step computed apart is the step computed here, bit for bit: every array of every field,
  in both modes, and again after the shared memory has grown for a larger stack.
* An exception raised there is raised here with its type and message; a process that ends is
  one RuntimeError that says so; a module that cannot be imported there says which.
* The sweep with PyTorch apart reports exactly what it reports with PyTorch in its own process,
  and ``crosscheck sweep`` puts the built-in PyTorch apart, and nothing else, in a sweep of
  enough networks to repay the process's start.
* While PyTorch computes apart, XLA's threads in the sweep's process give way to it (a lower
  priority), and only then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import textwrap

import numpy as np
import pytest

from crosscheck import cli
from crosscheck.runs import apart, padded, sweep
from tests.helpers import load_backend

pytestmark = pytest.mark.skipif(not apart.available(), reason="no memfd_create here")


def _stack(networks: int, mode: str, seed: int = 2):
    drawn = [(arch, group) for arch, group in sweep.groups(seed, 4 * networks, 10)
             if arch.mode == mode]
    return padded.pad(drawn, sweep.SHAPE, "float64")


def _fields(step):
    """Every array of a StackedStep, named by its field, slot and part."""
    grads = step.gradients
    named = {"loss_before": step.loss_before, "loss_after": step.loss_after}
    for slot, layer in enumerate(step.network):
        named |= {f"weights[{slot}]": grads.weights[slot], f"biases[{slot}]": grads.biases[slot],
                  f"errors[{slot}]": grads.errors[slot], f"after.weights[{slot}]": layer.weights,
                  f"after.bias[{slot}]": layer.bias}
    return named


@pytest.fixture(scope="module")
def torch_apart():
    load_backend("torch")
    with apart.Apart("torch_impl") as process:
        yield process


@pytest.mark.parametrize("mode", sweep.MODES)
def test_a_step_apart_is_the_step_computed_here(torch_apart, mode):
    torch_impl = load_backend("torch")
    for networks in (40, 200):              # the second grows the shared memory
        stack = _stack(networks, mode)
        with sweep.one_torch_thread():     # as in the process apart: the same sums
            here = _fields(torch_impl.padded_step(stack, mode))
        there = _fields(torch_apart.padded_step(stack, mode))
        assert list(there) == list(here)
        for name, array in here.items():
            other = there[name]
            assert (other.shape, other.dtype) == (array.shape, array.dtype), name
            assert np.array_equal(other, array, equal_nan=True), (
                f"{name}: apart {other.ravel()[:4]} here {array.ravel()[:4]}")


def _module(tmp_path, monkeypatch, body: str) -> str:
    """A backend module of ``body``, importable by its name here and in the process apart."""
    (tmp_path / "planted_backend.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("planted_backend", None)
    return "planted_backend"


@pytest.mark.parametrize("body, raised, message", [
    ("def padded_step(padded, mode):\n    raise ValueError(f'planted in {mode}')\n",
     ValueError, "planted in online"),
    ("import threading\n"
     "class Unpicklable(Exception):\n"
     "    def __init__(self):\n"
     "        super().__init__('with a lock')\n"
     "        self.lock = threading.Lock()\n"
     "def padded_step(padded, mode):\n    raise Unpicklable()\n",
     RuntimeError, "Unpicklable: with a lock"),
    ("import os\ndef padded_step(padded, mode):\n    os._exit(3)\n",
     RuntimeError, r"planted_backend's padded steps ended \(exit code 3\)"),
], ids=["an exception", "an exception that cannot cross", "the process ends"])
def test_what_goes_wrong_apart_is_raised_here(tmp_path, monkeypatch, body, raised, message):
    name = _module(tmp_path, monkeypatch, body)
    with apart.Apart(name) as process, pytest.raises(raised, match=message):
        process.padded_step(_stack(20, "online"), "online")


def test_a_module_that_cannot_be_imported_apart_says_which():
    with apart.Apart("no_such_backend_module") as process, pytest.raises(
            ModuleNotFoundError, match="no_such_backend_module"):
        process.padded_step(_stack(20, "batch"), "batch")


def test_the_sweep_with_torch_apart_reports_what_it_reports_in_process():
    modules = {name: load_backend(name) for name in ("numpy", "torch")}
    here = sweep.sweep(modules, 300, seed=6, per_architecture=10)
    there = sweep.sweep(modules, 300, seed=6, per_architecture=10, apart=("torch",))
    assert here.max_abs_diff > 0 and here.worst is not None
    for field in ("architectures", "max_abs_diff", "disagreements", "diverged", "worst",
                  "worst_architecture", "networks"):
        assert getattr(there, field) == getattr(here, field), field
    assert dataclasses.asdict(there.worst) == dataclasses.asdict(here.worst)


def test_xla_threads_give_way_while_the_sweep_runs():
    """After a JAX step the process has XLA's CPU threads (found by their name: if jaxlib renamed
    them, this fails rather than the sweep silently losing the policy); inside
    ``xla_threads_behind`` each is at nice XLA_NICE or lower priority, as the OS reports it, and
    afterwards back where it was, where the OS lets an unprivileged process go back."""
    jax_impl = load_backend("jax")
    arch = sweep.Architecture((2, 3, 1), ("tanh", "identity"), ("present", "present"), 2,
                              "mse", "exact", "batch", 0.1)
    jax_impl.stacked_step(*sweep.draw_group(np.random.default_rng(0), arch, 4), arch.loss,
                          arch.learning_rate, arch.rule, arch.mode)
    threads = sweep._xla_threads()
    assert threads, "no XLA threads found by name"
    before = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in threads}
    with sweep.xla_threads_behind():
        assert all(os.getpriority(os.PRIO_PROCESS, tid) == max(nice, sweep.XLA_NICE)
                   for tid, nice in before.items())
    after = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in threads}
    assert after == before if os.geteuid() == 0 else all(
        after[tid] >= nice for tid, nice in before.items())


@pytest.mark.parametrize("apart_names", [(), ("torch",)], ids=["in process", "torch apart"])
def test_xla_threads_give_way_only_to_a_process_apart(monkeypatch, apart_names):
    entered = []

    @contextlib.contextmanager
    def spied():
        entered.append(True)
        yield

    monkeypatch.setattr(sweep, "xla_threads_behind", spied)
    modules = {name: load_backend(name) for name in ("numpy", "torch", "jax")}
    report = sweep.sweep(modules, 60, seed=1, per_architecture=10, apart=apart_names)
    assert report.ok and entered == ([True] if apart_names else [])


def test_crosscheck_sweep_puts_the_built_in_torch_apart_in_a_long_sweep(monkeypatch):
    numpy, torch = load_backend("numpy"), load_backend("torch")
    both, enough = {"numpy": numpy, "torch": torch}, sweep.APART_FROM
    assert sweep.apart_by_default(both, enough) == ("torch",)
    assert sweep.apart_by_default(both, enough - 1) == ()     # not worth its 2 s of setup
    assert sweep.apart_by_default({"numpy": numpy}, enough) == ()
    assert sweep.apart_by_default({"numpy": numpy, "torch": numpy}, enough) == ()
    apart.available.cache_clear()
    monkeypatch.setattr(apart.os, "memfd_create", _refused)     # as a sandbox may refuse it
    try:
        assert sweep.apart_by_default(both, enough) == ()
    finally:
        apart.available.cache_clear()


def _refused(name):
    raise PermissionError(1, "Operation not permitted")


def test_crosscheck_sweep_of_one_call_or_more_computes_torch_apart(monkeypatch, capsys):
    load_backend("torch")
    real, seen = sweep.sweep, []

    def spied(*args, **options):
        seen.append(options["apart"])
        return real(*args, **options)

    monkeypatch.setattr(sweep, "sweep", spied)
    code = cli.main(["sweep", "--count", str(sweep.APART_FROM), "--backends", "numpy,torch",
                     "--seed", "3", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and seen == [("torch",)]
    assert report["ok"] and report["networks"] == sweep.APART_FROM and report["max_abs_diff"] > 0


def test_a_sweep_of_groups_too_large_to_pad_starts_no_process(monkeypatch):
    """Groups of PADDED_BELOW networks or more are each one stacked step, in this process: a
    process apart, and the padded steps of the warm-up, would be work for nothing."""
    def refused(*args):
        raise AssertionError("a process apart for a sweep without padded stacks")

    monkeypatch.setattr(sweep, "Apart", refused)
    modules = {name: load_backend(name) for name in ("numpy", "torch")}
    report = sweep.sweep(modules, 2 * sweep.PADDED_BELOW, seed=1,
                         per_architecture=sweep.PADDED_BELOW, apart=("torch",))
    assert report.ok and report.networks == 2 * sweep.PADDED_BELOW
