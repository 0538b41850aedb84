"""The backend registry: backends by name, imported only when asked for (einops-style), and
checked against the contract when they load.

``numpy`` is the hand-written reference; ``torch`` and ``jax`` are the autograd versions. Another
package can add its own backend through the entry-point group ``crosscheck.backends``: the entry
point names a module (or object) that implements the contract of ``reference/__init__.py``,
which ``Backend`` states as a Protocol. A backend that lacks a function of it is refused in one
line when it loads; one that computes less than everything declares ``SUPPORTS``.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

from crosscheck import modules
from reference.types import Supports

BUILTIN = {"numpy": "reference", "torch": "torch_impl", "jax": "jax_impl"}
FRAMEWORKS = {"numpy": "numpy", "torch": "torch", "jax": "jax"}
ENTRY_POINT_GROUP = "crosscheck.backends"


@runtime_checkable
class Backend(Protocol):
    """What a backend provides: the functions of the contract (``reference/__init__.py``) and
    its framework's version. ``stacked_step`` is needed by ``crosscheck sweep`` only,
    ``padded_step`` by its padded stacks only (the frameworks have it, the reference does not),
    ``intermediates`` by the quantities z, δ and the terms of E only (without it they are left
    to the other backends), and ``SUPPORTS`` (a ``reference.Supports``) is optional: without it,
    everything is supported."""

    def version(self) -> str: ...
    def forward(self, net, X, dtype="float64"): ...
    def loss(self, net, X, T, loss_name, dtype="float64"): ...
    def gradients(self, net, X, T, loss_name, rule="exact", dtype="float64", lr=None): ...
    def step(self, net, X, T, loss_name, lr, rule="exact", mode="batch", dtype="float64"): ...
    def train(self, net, X, T, loss_name, lr, rule="exact", mode="batch", steps=1,
              dtype="float64"): ...


REQUIRED = ("version", "forward", "loss", "gradients", "step", "train")


class BackendUnavailable(RuntimeError):
    """A backend was asked for by name but cannot be loaded, or does not keep the contract."""


def _entry_points():
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """Every backend name known: the built-in ones first, then registered ones."""
    return list(BUILTIN) + sorted(set(_entry_points()) - set(BUILTIN))


def load(name: str):
    """The backend of ``name``, checked; BackendUnavailable with a one-line reason. ``name`` is
    a built-in or registered name, a file (``path/to/backend.py``) or ``module:object``."""
    if modules.is_file(name) or ":" in name:
        return checked(name, _direct(name), name)
    if name in BUILTIN:
        try:
            return checked(name, importlib.import_module(BUILTIN[name]), BUILTIN[name])
        except ImportError as exc:
            missing = getattr(exc, "name", None) or str(exc)
            raise BackendUnavailable(
                f"backend {name!r} needs {FRAMEWORKS[name]}, which cannot be imported ({missing}); "
                f"install it with: pip install 'backprop-crosscheck[{name}]'"
            ) from None
    entry = _entry_points().get(name)
    if entry is None:
        raise BackendUnavailable(f"unknown backend {name!r}; known: {', '.join(names())}")
    try:
        module = entry.load()
    except Exception as exc:  # a third-party backend may fail in any way; say so in one line
        raise BackendUnavailable(
            f"backend {name!r} ({entry.value}) failed to load: {exc}") from None
    return checked(name, module, entry.value)


def _direct(where: str):
    """A backend given by its file or as ``module:object``, without packaging."""
    module_name, _, attribute = where.rpartition(":") if ":" in where else (where, "", "")
    try:
        module = modules.named(module_name, "crosscheck_backend")
        return getattr(module, attribute) if attribute else module
    except FileNotFoundError:
        raise BackendUnavailable(f"backend {where!r}: no such file") from None
    except Exception as exc:  # the user's backend may fail in any way; say so in one line
        raise BackendUnavailable(f"backend {where!r} failed to load: {type(exc).__name__}: "
                                 f"{exc}") from None


def display_name(name: str, backend) -> str:
    """How reports name a backend: its own NAME when given by a path or module:object."""
    if modules.is_file(name) or ":" in name:
        return str(getattr(backend, "NAME", None) or Path(name.rpartition(":")[2] or name).stem)
    return name


def checked(name: str, module, where: str):
    """``module`` if it keeps the contract; BackendUnavailable naming what it lacks."""
    missing = [function for function in REQUIRED if not callable(getattr(module, function, None))]
    if missing:
        raise BackendUnavailable(
            f"backend {name!r} ({where}) lacks {', '.join(missing)}: a backend provides the "
            "functions of the contract in reference/__init__.py")
    supports = getattr(module, "SUPPORTS", None)
    if supports is not None and not isinstance(supports, Supports):
        raise BackendUnavailable(f"backend {name!r} ({where}): SUPPORTS must be a "
                                 "reference.Supports, got " + type(supports).__name__)
    return module


def supports(module) -> Supports:
    """What the backend declares it computes (everything, unless it says otherwise)."""
    return getattr(module, "SUPPORTS", None) or Supports()


def defaults() -> tuple[dict, dict[str, str]]:
    """The built-in backends that load here (used when none are asked for), and why the others
    do not: ``({"numpy": module, ...}, {"torch": "needs torch, ..."})``."""
    found, skipped = {}, {}
    for name in BUILTIN:
        try:
            found[name] = load(name)
        except BackendUnavailable as exc:
            skipped[name] = str(exc).removeprefix(f"backend {name!r} ")
    return found, skipped


def available() -> list[str]:
    """The names of the built-in backends that load here."""
    return list(defaults()[0])
