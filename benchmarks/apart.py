"""Why ``crosscheck sweep`` computes PyTorch's padded steps in a process of their own.

PyTorch's padded step of one sweep call (the online networks of ``crosscheck sweep --count 4000
--seed 3``), timed warm, best of 3, in four settings:

* alone in this process;
* beside a thread of this process that runs the NumPy reference and its magnitudes over the
  call's groups again and again (as the sweep's own thread does), so that both want the
  interpreter lock;
* beside a process that runs the same loop (the same work on the other core, no shared lock);
* in a process apart (``crosscheck/runs/apart.py``) beside that thread, as the sweep runs it.

Prints one line per setting: wall seconds, and for the first three the CPU seconds of PyTorch's
thread.

    .venv/bin/python benchmarks/apart.py
"""

from __future__ import annotations

import multiprocessing
import threading
import time

from crosscheck import backends
from crosscheck.runs import memory, padded, sweep
from crosscheck.runs.apart import Apart


def reference_loop(stop, count: int = 4000) -> None:
    """The NumPy reference and its magnitudes of the sweep's online groups, until ``stop``."""
    drawn = [(index, arch, group) for index, (arch, group) in
             enumerate(sweep.groups(3, count, sweep.PER_ARCHITECTURE))
             if arch.mode == "online"]
    report = sweep.SweepReport(count, 3, "float64", ["numpy"], [], 20, 0.0)
    report.seconds_by_backend = {"numpy": 0.0}
    numpy = backends.load("numpy")
    while not stop.is_set():
        sweep._reference(numpy, report, drawn)


def timed(step, stack, repeats: int = 3) -> tuple[float, float]:
    """(wall, thread CPU) seconds of the best of ``repeats`` warm calls."""
    step(stack, "online")
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.thread_time()
        step(stack, "online")
        best = min(best, (time.perf_counter() - wall, time.thread_time() - cpu))
    return best


def beside(step, stack, start_other) -> tuple[float, float]:
    """``timed`` while ``start_other(stop)`` runs the reference's loop; it is stopped after."""
    stop, other = start_other()
    time.sleep(0.3)                     # the other one started and busy
    try:
        return timed(step, stack)
    finally:
        stop.set()
        other.join()


def in_a_thread():
    stop = threading.Event()
    thread = threading.Thread(target=reference_loop, args=(stop,))
    thread.start()
    return stop, thread


def in_a_process():
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    process = context.Process(target=reference_loop, args=(stop,))
    process.start()
    time.sleep(1.0)                     # its imports
    return stop, process


def main() -> None:
    memory.keep_freed()
    torch_impl = backends.load("torch")
    online = [(arch, group) for arch, group in sweep.groups(3, 4000) if arch.mode == "online"]
    stack = padded.pad(online, sweep.SHAPE, "float64")
    with sweep.one_torch_thread(), Apart("torch_impl") as apart:
        rows = [("alone", timed(torch_impl.padded_step, stack)),
                ("beside a thread running the reference",
                 beside(torch_impl.padded_step, stack, in_a_thread)),
                ("beside a process running the reference",
                 beside(torch_impl.padded_step, stack, in_a_process)),
                ("apart, beside a thread running the reference",
                 beside(apart.padded_step, stack, in_a_thread))]
    print(f"PyTorch's padded step, {len(stack.X)} online networks of crosscheck sweep --count "
          "4000 --seed 3, warm, best of 3:")
    for label, (wall, cpu) in rows:
        cpu_text = "" if label.startswith("apart") else f", {cpu:.3f} s of its thread's CPU"
        print(f"  {label:46} {wall:.3f} s{cpu_text}")


if __name__ == "__main__":
    main()
