"""The backend registry: backends by name, imported only when asked for (einops-style).

``numpy`` is the hand-written reference; ``torch`` and ``jax`` are the autograd versions. Another
package can add its own backend through the entry-point group ``crosscheck.backends``: the entry
point names a module (or object) that implements the contract of ``reference/__init__.py``.
"""

from __future__ import annotations

import importlib
from importlib import metadata

BUILTIN = {"numpy": "reference", "torch": "torch_impl", "jax": "jax_impl"}
FRAMEWORKS = {"numpy": "numpy", "torch": "torch", "jax": "jax"}
ENTRY_POINT_GROUP = "crosscheck.backends"


class BackendUnavailable(RuntimeError):
    """A backend was asked for by name but cannot be loaded."""


def _entry_points():
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """Every backend name known: the built-in ones first, then registered ones."""
    return list(BUILTIN) + sorted(set(_entry_points()) - set(BUILTIN))


def load(name: str):
    """The backend module of ``name``; BackendUnavailable with a one-line reason otherwise."""
    if name in BUILTIN:
        try:
            return importlib.import_module(BUILTIN[name])
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
        return entry.load()
    except Exception as exc:  # a third-party backend may fail in any way; say so in one line
        raise BackendUnavailable(
            f"backend {name!r} ({entry.value}) failed to load: {exc}") from None


def available() -> list[str]:
    """The names of the built-in backends that load here (used when none are asked for)."""
    found = []
    for name in BUILTIN:
        try:
            load(name)
        except BackendUnavailable:
            continue
        found.append(name)
    return found
