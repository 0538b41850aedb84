"""The version matrix (``make matrix``): the cross-backend and golden tests under other versions.

One session per framework version, each in a fresh environment of its own (uv; pip for PyTorch,
whose CPU build lies on this machine's disk where uv does not look). Each runs the tests that
compare its backend with the reference and with the golden files, and writes what
``crosscheck run --all --json`` gives into ``out/matrix/<session>.json``, which
``python -m tools.matrix`` compares with the pinned versions' (docs/regression.md has the
table). ``nox -l`` lists the sessions; ``nox -s "jax(version='0.9.2')"`` runs one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
OUT = Path("out/matrix")
TESTS = ["tests/test_cross_backends.py", "tests/test_golden.py"]
PINNED = {"numpy": "2.4.6", "jax": "0.10.2", "torch": "2.13.0"}
# JAX releases and the optax of their time (an optax newer than its JAX may call what that JAX
# does not have yet).
JAX = {"0.10.2": "0.2.8", "0.9.2": "0.2.6", "0.8.3": "0.2.6", "0.7.2": "0.2.5",
       "0.6.2": "0.2.5", "0.5.3": "0.2.4", "0.4.38": "0.2.4", "0.4.30": "0.2.3",
       "0.4.26": "0.2.2"}
# PyTorch releases: the newest patch of every minor release with a wheel for this Python.
# 2.13.0 resolves here to the CPU build on this machine's disk; every other release on the index
# is a CUDA build that pulls its CUDA packages (2.5 to 4 GB), and runs on the CPU. All run with
# the pinned NumPy: the reference needs NumPy 2 (.mT, copy=None), and so the project cannot run
# with a PyTorch built against NumPy 1 (before 2.3); those sessions are kept to show it.
TORCH = ["2.15.0", "2.14.1", "2.13.0", "2.12.1", "2.11.0", "2.10.0", "2.9.1", "2.8.0", "2.7.1",
         "2.6.0", "2.5.1", "2.4.1", "2.3.1", "2.2.2", "2.1.2", "2.0.1", "1.13.1"]
NUMPY = ["2.4.6", "2.0.2", "1.26.4"]


def _begin(name: str) -> None:
    """Say that the session ran, before it installs anything (an install that fails leaves
    this line for the table)."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").unlink(missing_ok=True)
    (OUT / f"{name}.tests").write_text("did not install\n")


def _check(session, name: str, backends: str, *tests: str) -> None:
    """Run ``tests`` (pytest arguments), keep pytest's summary line in ``<name>.tests``, write
    ``crosscheck run --all --json`` into ``<name>.json`` whatever the tests said, and fail the
    session when the tests failed."""
    output = session.run("pytest", "-q", "-p", "no:cacheprovider", *tests, silent=True,
                         success_codes=range(6)) or ""
    print(output[-3000:])
    summary = output.strip().splitlines()[-1] if output.strip() else "no output"
    (OUT / f"{name}.tests").write_text(summary + "\n")
    with open(OUT / f"{name}.json", "w") as out:
        session.run("crosscheck", "run", "--all", "--backends", backends, "--json",
                    stdout=out, success_codes=[0, 1, 2])
    if " passed" not in summary or any(word in summary for word in ("failed", "error")):
        session.error(f"the tests: {summary}")


def _project(session, *requirements, env=None) -> None:
    session.install("-e", ".", "pytest", "hypothesis", *requirements, env=env)


@nox.session(python=PYTHON)
@nox.parametrize("version", list(JAX))
def jax(session, version):
    """The JAX backend under one JAX release, against the reference and the golden files."""
    _begin(f"jax-{version}")
    _project(session, f"numpy=={PINNED['numpy']}", f"jax=={version}", f"jaxlib=={version}",
             f"optax=={JAX[version]}")
    _check(session, f"jax-{version}", "numpy,jax", *TESTS, "-k", "jax or numpy")


@nox.session(python=PYTHON, venv_backend="venv")
@nox.parametrize("version", TORCH)
def torch(session, version):
    """The PyTorch backend under one PyTorch release (pip, which finds the builds on disk). A
    CUDA build's environment is removed afterwards (about 6 GB each); ``-- keep`` keeps it."""
    # A machine-wide pip constraint (this one caps torch at the releases on its disk) would
    # refuse the release asked for: the session's own pin is the only constraint.
    _begin(f"torch-{version}")
    try:
        _project(session, "--no-cache-dir", f"numpy=={PINNED['numpy']}", f"torch=={version}",
                 env={"PIP_CONSTRAINT": os.devnull})
        _check(session, f"torch-{version}", "numpy,torch", *TESTS, "-k", "torch or numpy")
    finally:
        if version != PINNED["torch"] and "keep" not in session.posargs:
            shutil.rmtree(session.virtualenv.location, ignore_errors=True)


@nox.session(python=PYTHON)
@nox.parametrize("version", NUMPY)
def numpy(session, version):
    """The NumPy reference alone under one NumPy release (the project installed without its
    own requirement of NumPy, so that an older one is tried rather than refused)."""
    _begin(f"numpy-{version}")
    session.install("-e", ".", "--no-deps")
    session.install("pytest", "hypothesis", f"numpy=={version}")
    _check(session, f"numpy-{version}", "numpy", *TESTS, "tests/test_finite_differences.py",
           "tests/test_activations_losses.py", "-k", "numpy or not (torch or jax)")
