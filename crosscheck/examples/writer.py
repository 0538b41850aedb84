"""A network and its data written as an example file that ``crosscheck check`` runs.

Numbers are written with ``repr``, the shortest decimal that reads back as the same float, so
the file holds the network bit for bit.
"""

from __future__ import annotations

import numpy as np


def _numbers(array) -> str:
    if np.ndim(array) == 1:
        return "[" + ", ".join(repr(float(v)) for v in array) + "]"
    return "[" + ", ".join(_numbers(row) for row in array) + "]"


def _string(text: str) -> str:
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '"""' if "\n" in text \
        else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(net, X, T, *, name: str, loss: str, learning_rate: float, steps: int = 1,
            mode: str = "batch", rule: str = "exact", title: str = "", source: str = "",
            optimizer=None) -> str:
    """The example file of ``net`` on inputs ``X`` and targets ``T`` (trained by ``optimizer``,
    a reference.Optimizer, when one is given)."""
    lines = [f"name = {_string(name)}"]
    lines += [f"{key} = {_string(text)}" for key, text in (("title", title), ("source", source))
              if text]
    lines += [f"loss = {_string(loss)}", f"learning_rate = {float(learning_rate)!r}",
              f"steps = {steps}", f"mode = {_string(mode)}", f"rule = {_string(rule)}"]
    if optimizer is not None:
        lines += ["", "[optimizer]", f"name = {_string(optimizer.name)}",
                  f"convention = {_string(optimizer.convention)}"]
        lines += [f"{key} = {_value(value)}" for key, value in optimizer.settings().items()]
    for layer in net:
        lines += ["", "[[layers]]", f"activation = {_string(layer.activation)}",
                  f"weights = {_numbers(layer.weights)}"]
        if layer.bias is not None:
            lines.append(f"bias = {_numbers(layer.bias)}")
            if not layer.train_bias:
                lines.append("train_bias = false")
    lines += ["", "[data]", f"inputs = {_numbers(X)}", f"targets = {_numbers(T)}", ""]
    return "\n".join(lines)


def _value(value) -> str:
    """A setting in TOML: true/false, a number, or [β1, β2]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return f"[{', '.join(repr(float(v)) for v in value)}]"
    return repr(float(value))
