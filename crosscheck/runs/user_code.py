"""A user's own function: found by its name, called with plain NumPy arrays, its answer checked.

``load("my_backprop.py:gradients")`` (or ``"package.module:name"``) finds the function;
``call`` gives it the weights (a list, first layer first, each (outputs, inputs), or (inputs,
outputs) with ``layout="inputs-outputs"``), the biases (a list, None where a layer has none),
X (samples, inputs), T (samples, outputs) and, for a training step, the learning rate; and turns
its answer (lists, tuples, NumPy arrays, torch tensors or JAX arrays) into float64 arrays in the
project's layout. What cannot be read is one ``FunctionError`` line saying what and where; an
exception raised in the user's code is a ``UserCodeFailed`` whose traceback starts at the user's
own code, and ``user_frames`` keeps only the frames of the user's file.
"""

from __future__ import annotations

import inspect
import os
import traceback
from dataclasses import dataclass

import numpy as np

from crosscheck import modules

LAYOUTS = ("outputs-inputs", "inputs-outputs")


class FunctionError(ValueError):
    """The user's function cannot be found, called or read: one line, exit code 2."""


class UserCodeFailed(Exception):
    """The user's own code raised; ``error`` is its exception, with its traceback."""

    def __init__(self, function: UserFunction, error: BaseException):
        self.function, self.error = function, error
        super().__init__(f"{function.label} raised {type(error).__name__}: {error}")


@dataclass(frozen=True)
class UserFunction:
    function: object
    label: str             # as the user named it: "my_backprop.py:gradients"
    path: str | None       # the file it is written in, for its traceback frames
    step: bool             # a training step (it takes the learning rate), not gradients


def _module_of(where: str):
    try:
        return modules.named(where, "crosscheck_user")
    except FileNotFoundError:
        raise FunctionError(f"{where}: no such file") from None
    except ImportError as exc:
        if modules.is_file(where):
            raise
        raise FunctionError(f"{where}: cannot be imported ({exc})") from None


def load(target: str, step: bool | None = None) -> UserFunction:
    """The function of ``FILE.py[:NAME]`` or ``module[:NAME]`` (NAME defaults to gradients).
    ``step`` None: a training step when the function takes a parameter named ``lr``."""
    where, _, name = target.rpartition(":") if ":" in target else (target, "", "gradients")
    name = name or "gradients"
    try:
        module = _module_of(where)
    except FunctionError:
        raise
    except Exception as exc:        # the user's file fails as it is read: their bug
        raise UserCodeFailed(UserFunction(None, target, where, False), exc) from None
    function = getattr(module, name, None)
    if not callable(function):
        defined = sorted(n for n, v in vars(module).items()
                         if inspect.isfunction(v) and not n.startswith("_"))
        raise FunctionError(f"{where} has no function {name!r}"
                            + (f"; it defines {', '.join(defined)}" if defined else ""))
    return of(function, f"{where}:{name}", step)


def of(function, label: str | None = None, step: bool | None = None) -> UserFunction:
    """A Python function as a UserFunction (for the Python API and the pytest helper)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        parameters = {}
    if step is None:
        step = "lr" in parameters
    path = inspect.getsourcefile(function) if inspect.isfunction(function) else None
    return UserFunction(function, label or getattr(function, "__qualname__", repr(function)),
                        path, step)


def call(user: UserFunction, net, X, T, lr: float, layout: str):
    """The user's (weights, biases): gradients, or parameters after one step."""
    weights = [layer.weights.copy() if layout == "outputs-inputs" else layer.weights.T.copy()
               for layer in net]
    biases = [None if layer.bias is None else layer.bias.copy() for layer in net]
    args = (weights, biases, X.copy(), T.copy()) + ((lr,) if user.step else ())
    try:
        answer = user.function(*args)
    except Exception as exc:
        raise UserCodeFailed(user, exc) from None
    return _read(user, answer, net, layout)


def _read(user: UserFunction, answer, net, layout):
    what = "weights and biases after the step" if user.step else "(weight gradients, bias " \
                                                                   "gradients)"
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise FunctionError(f"{user.label} returned {_kind(answer)}; expected two lists, {what}")
    weights, biases = answer
    depth = len(net)
    for part, items in (("weight", weights), ("bias", biases)):
        if not isinstance(items, (tuple, list)) or len(items) != depth:
            raise FunctionError(f"{user.label} returned {_kind(items)} for the {part}s; "
                                f"expected a list of {depth}, one per layer")
    return ([_weights(user, i, w, layer, layout) for i, (w, layer) in enumerate(zip(weights, net))],
            [_bias(user, i, b, layer) for i, (b, layer) in enumerate(zip(biases, net))])


def _array(user: UserFunction, value, what: str) -> np.ndarray:
    if hasattr(value, "detach"):                  # a torch tensor: no import of torch here
        value = value.detach().cpu()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise FunctionError(f"{user.label} returned {_kind(value)} for {what}; expected an "
                            "array of numbers") from None
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        index = "".join(f"[{i}]" for i in bad[0])
        raise FunctionError(f"{user.label} returned a non-finite number for {what}{index}: "
                            f"{array[tuple(bad[0])]}")
    return array


def _weights(user, i, value, layer, layout) -> np.ndarray:
    """A weight array in the project's layout; a transposed one is kept as it is, for the
    diagnosis to name."""
    expected = layer.weights.shape
    given = _array(user, value, f"layer {i}'s weights")
    array = given.T if layout == "inputs-outputs" else given
    if array.shape != expected and array.shape != expected[::-1]:
        shown = expected if layout == "outputs-inputs" else expected[::-1]
        raise FunctionError(f"{user.label} returned layer {i}'s weights with shape "
                            f"{given.shape}, expected {shown}")
    return array


def _bias(user, i, value, layer):
    """A bias array; None (or a missing one) where the layer has a bias reads as zeros."""
    if layer.bias is None:
        return None
    if value is None:
        return np.zeros_like(layer.bias)
    array = _array(user, value, f"layer {i}'s bias").reshape(-1)
    if array.shape != layer.bias.shape:
        raise FunctionError(f"{user.label} returned layer {i}'s bias with {array.size} numbers, "
                            f"expected {layer.bias.size}")
    return array


def _kind(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def user_frames(failed: UserCodeFailed) -> str:
    """The traceback of the user's exception, the frames of the user's file only."""
    frames = traceback.extract_tb(failed.error.__traceback__)
    if failed.function.path:
        mine = os.path.realpath(failed.function.path)
        frames = [f for f in frames if os.path.realpath(f.filename) == mine] or frames[-1:]
    lines = ["Traceback (the frames of your code):\n", *traceback.format_list(frames)]
    lines += traceback.format_exception_only(type(failed.error), failed.error)
    return "".join(lines).rstrip()


def from_user_frame(failed: UserCodeFailed) -> BaseException:
    """The user's exception with its traceback starting at the user's own code."""
    error, tb = failed.error, failed.error.__traceback__
    mine = failed.function.path and os.path.realpath(failed.function.path)
    while tb is not None and mine and os.path.realpath(tb.tb_frame.f_code.co_filename) != mine:
        tb = tb.tb_next
    return error.with_traceback(tb or error.__traceback__)


__all__ = ["LAYOUTS", "FunctionError", "UserCodeFailed", "UserFunction", "call", "from_user_frame",
           "load", "of", "user_frames"]
