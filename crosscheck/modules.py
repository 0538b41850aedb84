"""Python code a user names: a file (``path/to/code.py``) or an importable module."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path


def is_file(where: str) -> bool:
    return where.endswith(".py") or "/" in where


def from_file(path: Path, prefix: str):
    """The module of one Python file, run now; FileNotFoundError if there is none."""
    if not path.is_file():
        raise FileNotFoundError(path)
    spec = importlib.util.spec_from_file_location(f"{prefix}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def named(where: str, prefix: str):
    """The module ``where`` names: a file, run now, or an importable module."""
    return from_file(Path(where), prefix) if is_file(where) else importlib.import_module(where)
