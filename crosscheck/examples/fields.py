"""The checks of single TOML values: strings, names, numbers, tables, vectors and matrices.

Every check raises ``ExampleError`` naming the file and the key, e.g.
``my.toml: layers[1].weights: expected 2 columns per row ..., got 3``.
"""

from __future__ import annotations

import difflib
import math
import re

import numpy as np


class ExampleError(ValueError):
    """A problem in an example file: ``file: key: message``."""

    def __init__(self, file: str, key: str, message: str):
        self.file, self.key, self.message = file, key, message
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


def kind(value) -> str:
    """What a TOML value is, for messages: "a number (3)", "an array of 2", "a table"."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Fields:
    """The value checks of one file; each failure names the file and the key."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, message: str):
        raise ExampleError(self.file, key, message)

    # --- scalars -------------------------------------------------------------------------------
    def string(self, doc, key, required=False, default="", where=""):
        if key not in doc:
            if required:
                self.fail(where + key, "missing (required)")
            return default
        if not isinstance(doc[key], str):
            self.fail(where + key, f"expected a string, got {kind(doc[key])}")
        return doc[key]

    def choice(self, doc, key, allowed, required=False, default=None, where=""):
        value = self.string(doc, key, required, default, where)
        if value not in allowed:
            self.fail(where + key, f"unknown value {value!r}; expected one of {', '.join(allowed)}")
        return value

    def number(self, value, key) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {kind(value)}")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            self.fail(key, "integer out of range (TOML integers are 64-bit)")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value}")
        return float(value)

    def count(self, value, key, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, f"expected an integer from {low} to {high}, got {value!r}")
        return value

    def keys(self, table, key, allowed, belongs: dict[str, str] | None = None):
        """Fail on the first key not ``allowed``; ``belongs`` maps a key to the table it belongs
        in, for a key written one level too high."""
        if not isinstance(table, dict):
            self.fail(key, f"expected a table, got {kind(table)}")
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            where = f"{key}.{unknown[0]}" if key else unknown[0]
            close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else \
                f"expected one of {', '.join(sorted(allowed))}"
            if unknown[0] in (belongs or {}):
                hint = f"it belongs in the [{belongs[unknown[0]]}] table"
            self.fail(where, f"unknown key; {hint}")

    # --- arrays --------------------------------------------------------------------------------
    def vector(self, value, key, length=None, what="numbers"):
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected a non-empty array of {what}, got {kind(value)}")
        if length is not None and len(value) != length:
            self.fail(key, f"expected {length} entries, got {len(value)}")
        return value

    def matrix(self, value, key, columns=None, columns_why="", rows=None, rows_why=""):
        """A rectangular, non-empty array of arrays of finite numbers, as float64."""
        if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
            self.fail(key, f"expected a non-empty array of rows (arrays of numbers), got "
                           f"{kind(value)}")
        if rows is not None and len(value) != rows:
            self.fail(key, f"expected {rows} rows{rows_why}, got {len(value)}")
        width = columns if columns is not None else len(value[0])
        for r, row in enumerate(value):
            if len(row) != width:
                why = columns_why if columns is not None else " (the width of row 0)"
                self.fail(f"{key}[{r}]" if columns is None else key,
                          f"expected {width} columns per row{why}, got {len(row)}"
                          + ("" if columns is None else f" in row {r}"))
            if width == 0:
                self.fail(f"{key}[{r}]", "expected at least one number per row")
            for c, item in enumerate(row):
                self.number(item, f"{key}[{r}][{c}]")
        return np.array(value, dtype=np.float64)

    def names(self, table, key, field, shape):
        """Labels of the shape of a layer's weights (rows of names) or of its neurons."""
        if field not in table:
            return None
        value = table[field]
        if len(shape) == 1:
            self.vector(value, key, shape[0], "strings")
            rows = [value]
        else:
            if not isinstance(value, list) or len(value) != shape[0]:
                self.fail(key, f"expected {shape[0]} rows of names, like the weights")
            rows = value
        for r, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != shape[-1]:
                self.fail(key, f"expected {shape[-1]} names in row {r}, like the weights")
            for item in row:
                if not isinstance(item, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", item):
                    self.fail(key, f"{item!r} is not a name (letters, digits, '_')")
        return tuple(rows[0]) if len(shape) == 1 else tuple(tuple(r) for r in rows)
