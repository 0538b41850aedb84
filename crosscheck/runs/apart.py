"""A framework's padded steps computed apart: in a process of its own.

Python runs one thread of a process at a time (the interpreter lock). PyTorch's eager padded
step is about 15,000 operations a call, and each holds the lock while Python dispatches it; in
the sweep's process the NumPy reference (a few hundred small operations a group) wants the lock
at the same time. Measured on the 2-core machine (``benchmarks/apart.py``): PyTorch's online
call of 1,920 networks took 0.18 s alone, 0.43–0.46 s beside a thread computing the reference,
and 0.18 s beside the same work in another process. So ``crosscheck sweep`` computes PyTorch's
padded steps in a process of its own, with its own interpreter and its own lock.

``Apart(module)`` starts that process (``spawn``: PyTorch and JAX do not survive a fork), which
imports the module by its name. The stacks and the results cross in memory that both processes
map (an anonymous ``memfd``): ``padded_step`` writes the stack there, the process computes the
module's own ``padded_step`` on arrays that view it and writes its results after it, and
``padded_step`` copies them out. So a call's numbers are those the module computes in the
sweep's own process: the same function of the same arrays. An exception in the process is raised
again here, with its type and message; a process that ends is a RuntimeError that says so.

Linux only (``memfd_create``; ``available()``): elsewhere the sweep computes every step in its
own process.
"""

from __future__ import annotations

import functools
import importlib
import mmap
import multiprocessing
import os
import pickle
import threading
from multiprocessing.reduction import recv_handle, send_handle

import numpy as np

from reference.padded import Padded
from reference.types import Gradients, Layer, StackedStep

ALIGN = 64          # bytes: every array starts on a cache line


@functools.cache
def available() -> bool:
    """Whether steps can be computed apart here: an anonymous shared file can be made (Linux,
    unless a sandbox refuses the call)."""
    try:
        os.close(os.memfd_create("crosscheck-probe"))
    except (AttributeError, OSError):
        return False
    return True


def _layout(arrays, start: int = 0):
    """((shape, dtype, offset) per array, or None for None; the end) of ``arrays`` laid out
    one after another from ``start``."""
    layout, offset = [], start
    for array in arrays:
        if array is None:
            layout.append(None)
            continue
        layout.append((array.shape, array.dtype.str, offset))
        offset += -(-array.nbytes // ALIGN) * ALIGN
    return layout, offset


def _views(buffer, layout):
    """The arrays of ``layout`` as views of ``buffer``."""
    return [None if place is None else
            np.ndarray(place[0], np.dtype(place[1]), buffer=buffer, offset=place[2])
            for place in layout]


def _flat(step: StackedStep) -> list:
    """The arrays of a StackedStep in one list: the loss before, then per slot the weight
    gradients, the bias gradients, the errors, the weights after and the biases after, then the
    loss after."""
    grads = step.gradients
    return [np.asarray(step.loss_before), *grads.weights, *grads.biases, *grads.errors,
            *(layer.weights for layer in step.network), *(layer.bias for layer in step.network),
            np.asarray(step.loss_after)]


def _step(arrays, depth: int) -> StackedStep:
    """The StackedStep whose arrays ``_flat`` listed, for ``depth`` slots."""
    slots = [arrays[1 + depth * k : 1 + depth * (k + 1)] for k in range(5)]
    weights, biases, errors, after, after_biases = slots
    return StackedStep(arrays[0], Gradients(tuple(weights), tuple(biases), tuple(errors)),
                       tuple(Layer(w, b, "padded") for w, b in zip(after, after_biases)),
                       arrays[-1])


class Apart:
    """``padded_step`` of the module named ``module`` (importable by that name), computed in a
    process of its own; one call at a time. Use it as a context manager, or ``close()`` it."""

    def __init__(self, module: str):
        self.module, self.lock = module, threading.Lock()
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, module), daemon=True,
                                       name=f"crosscheck {module}")
        self.process.start()
        theirs.close()
        self.memory = None

    def padded_step(self, padded: Padded, mode: str) -> StackedStep:
        """The module's ``padded_step(padded, mode)``, computed in its process."""
        with self.lock:
            layout, end = _layout(padded)
            try:
                self._hold(3 * end)         # the results take at most twice the stack
                for view, array in zip(_views(self.memory, layout), padded):
                    np.copyto(view, array)
                self.connection.send(("step", mode, layout, end))
                kind, value = self.connection.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError):
                self.process.join(5)
                raise RuntimeError(f"the process computing {self.module}'s padded steps ended "
                                   f"(exit code {self.process.exitcode})") from None
            if kind == "error":
                raise value
            arrays = [None if view is None else view.copy()
                      for view in _views(self.memory, value)]
        return _step(arrays, padded.weights.shape[1])

    def _hold(self, size: int) -> None:
        """Shared memory of at least ``size`` bytes, mapped here and in the process."""
        if self.memory is not None and len(self.memory) >= size:
            return
        descriptor = os.memfd_create(f"crosscheck-{self.module}")
        try:
            os.ftruncate(descriptor, size)
            self.memory = mmap.mmap(descriptor, size)
            self.connection.send(("memory", size))
            send_handle(self.connection, descriptor, self.process.pid)
        finally:
            os.close(descriptor)

    def close(self) -> None:
        try:
            self.connection.send(("stop",))
        except (BrokenPipeError, ConnectionResetError):
            pass                        # it has ended already
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _serve(connection, module_name: str) -> None:
    """The process: the module's padded steps on the stacks the connection sends, with freed
    memory kept and PyTorch on one thread, as the sweep's own process runs them."""
    from crosscheck.runs import memory, sweep

    memory.keep_freed()
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:            # raised again at every step
        module = exc
    with sweep.one_torch_thread():
        _answer(connection, module)


def _answer(connection, module) -> None:
    """Every message of the connection answered, until it says stop or closes."""
    shared = None
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message[0] == "stop":
            return
        if message[0] == "memory":
            descriptor = recv_handle(connection)
            shared = mmap.mmap(descriptor, message[1])
            os.close(descriptor)
            continue
        connection.send(_compute(module, shared, *message[1:]))


def _compute(module, shared, mode: str, layout, end: int):
    """("done", the results' layout after ``end``) or ("error", the exception)."""
    try:
        if isinstance(module, Exception):
            raise module
        step = module.padded_step(Padded(*_views(shared, layout)), mode)
        arrays = [None if array is None else np.asarray(array) for array in _flat(step)]
        results, last = _layout(arrays, end)
        if last > len(shared):
            raise RuntimeError(f"the results take {last} bytes of {len(shared)} shared")
        for view, array in zip(_views(shared, results), arrays):
            if view is not None:
                np.copyto(view, array)
        return "done", results
    except Exception as exc:            # raised again in the sweep's process
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return "error", exc


__all__ = ["Apart", "available"]
