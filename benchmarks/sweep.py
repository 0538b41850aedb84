"""Cross-checks per second: by backend and batch size, for a whole sweep, and the memory of a
long sweep.

* By backend and batch size: a fixed set of architectures, each backend's ``stacked_step`` on
  groups of 1 to 4,000 networks; networks per second of warm calls (JAX compiled beforehand),
  and JAX's compile seconds per architecture on their own.
* JAX's compile and run seconds per architecture with XLA's default options and with the
  sweep's quicker-compiling ones.
* The whole sweep: ``crosscheck sweep --count N`` in-process (``--count``, default 20,000).
* ``--memory`` (instead of the above): resident set size after about 100 evenly spaced
  architectures of a ``--memory-count`` sweep (default 100,000 networks), as the operating
  system sees it and after handing freed memory back (gc and glibc's malloc_trim), to show that
  it stays flat; and that of the process apart that computes PyTorch's padded steps, as the
  operating system sees it.

Prints tables; ``--json`` prints one object with the keys ``by_batch``, ``compile_options`` and
``sweep``, or with ``--memory`` the key ``memory``.

    .venv/bin/python benchmarks/sweep.py [--count 20000] [--memory] [--json]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import multiprocessing
import resource
import time

import numpy as np

from crosscheck import backends
from crosscheck.report import as_json
from crosscheck.runs import memory as kept_memory
from crosscheck.runs import sweep

BATCHES = (1, 10, 100, 1000, 4000)
ARCHITECTURES = 6


def rss_mib(pid="self") -> float:
    """The resident set size of a process now (this one by default), from /proc/PID/statm."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def apart_rss_mib() -> float:
    """The resident set size of this process's children: the process apart that computes
    PyTorch's padded steps (``crosscheck/runs/apart.py``), as the OS sees it."""
    return sum(rss_mib(child.pid) for child in multiprocessing.active_children())


def _variants(modules):
    """(label, module, PyTorch threads): PyTorch on one thread (as the sweep runs it) and two."""
    for name, module in modules.items():
        if name == "torch":
            yield "torch 1 thread", module, 1
            yield "torch 2 threads", module, 2
        else:
            yield name, module, 1


def by_batch(modules) -> list[dict]:
    """Networks per second of each backend's stacked_step, by the size of the group."""
    import torch

    saved_threads = torch.get_num_threads()
    rng = np.random.default_rng(1)
    archs = [sweep.draw_architecture(rng) for _ in range(ARCHITECTURES)]
    rows = []
    for size in BATCHES:
        groups = [sweep.draw_group(rng, arch, size) for arch in archs]
        for name, module, threads in _variants(modules):
            torch.set_num_threads(threads)
            first = warm = 0.0
            for arch, group in zip(archs, groups):
                # Each architecture twice in a row: the first call compiles (JAX), the second
                # reuses it; JAX's caches may be emptied between architectures, never between.
                run = (arch.loss, arch.learning_rate, arch.rule, arch.mode)
                began = time.perf_counter()
                module.stacked_step(*group, *run)
                middle = time.perf_counter()
                module.stacked_step(*group, *run)
                first, warm = first + middle - began, warm + time.perf_counter() - middle
            rows.append({"backend": name, "batch": size, "networks": size * len(archs),
                         "first_s": round(first, 4), "warm_s": round(warm, 4),
                         "per_second": round(size * len(archs) / warm, 1),
                         "compile_s_per_architecture": round((first - warm) / len(archs), 4)})
    torch.set_num_threads(saved_threads)
    return rows


def compile_options(count: int = 4000) -> list[dict]:
    """Per architecture: JAX's compile and run seconds for the stacked function with XLA's
    default options and with the sweep's (``jax_impl.backprop._QUICK_COMPILE``)."""
    import jax

    from jax_impl import backprop
    from reference.types import as_network

    rng, rows = np.random.default_rng(1), []
    for _ in range(ARCHITECTURES):
        arch = sweep.draw_architecture(rng)
        stack, X, T = sweep.draw_group(rng, arch, count)
        stack = as_network(stack)
        params, frozen = backprop._split(stack)
        probes = tuple(np.zeros(X.shape[:2] + layer.weights.shape[1:2]) for layer in stack)
        args = (params, probes, frozen, X, T, np.asarray(arch.learning_rate))
        row = {"architecture": arch.describe()}
        for name, options in (("default", None), ("quick", backprop._QUICK_COMPILE)):
            function = backprop._stacked(backprop._structure(stack), arch.loss, arch.rule,
                                         arch.mode)
            began = time.perf_counter()
            compiled = jax.jit(function, compiler_options=options).lower(*args).compile()
            row[f"{name}_compile_s"] = round(time.perf_counter() - began, 3)
            jax.block_until_ready(compiled(*args))
            began = time.perf_counter()
            jax.block_until_ready(compiled(*args))
            row[f"{name}_run_s"] = round(time.perf_counter() - began, 4)
        rows.append(row)
    return rows


def memory(modules, count: int, trim: bool) -> dict:
    """RSS after every architecture (about 100 of them, evenly spaced) of a ``count``-network
    sweep at the default networks per architecture. With ``trim``, garbage is
    collected and glibc's malloc_trim hands freed memory back first, so the figure is what the
    process still holds; without it, what the operating system sees (glibc keeps freed memory
    for reuse: ``crosscheck/runs/memory.py``)."""
    libc = ctypes.CDLL("libc.so.6") if trim else None
    samples, apart = [], []

    def progress(_label, done, total):
        if done % max(1, total // 100) and done != total:
            return                        # about 100 samples, whatever the architectures
        if trim:
            gc.collect()
            libc.malloc_trim(0)
        samples.append(round(rss_mib(), 1))
        apart.append(round(apart_rss_mib(), 1))

    began = time.perf_counter()
    report = sweep.sweep(modules, count, seed=1, progress=progress,
                         apart=sweep.apart_by_default(modules, count))
    tail, apart_tail = samples[len(samples) // 2:], apart[len(apart) // 2:]
    return {"count": count, "trim": trim, "architectures": len(report.architectures),
            "seconds": round(time.perf_counter() - began, 2), "ok": report.ok,
            "samples": len(samples), "rss_mib": samples, "first": samples[0], "last": samples[-1],
            "second_half_min": min(tail), "second_half_max": max(tail),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "apart_rss_mib": apart, "apart_second_half": [min(apart_tail), max(apart_tail)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-count", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kept_memory.keep_freed()        # as `crosscheck sweep` does, before the frameworks' threads
    modules = {name: backends.load(name) for name in ("numpy", "torch", "jax")}
    if args.memory:
        out = {"memory": [memory(modules, args.memory_count, trim) for trim in (False, True)]}
    else:
        out = {"by_batch": by_batch(modules), "compile_options": compile_options(),
               "sweep": as_json.sweep(sweep.sweep(
                   modules, args.count, seed=0,
                   apart=sweep.apart_by_default(modules, args.count)))}
    if args.json:
        print(json.dumps(out))
        return
    if not args.memory:
        print_rates(out, modules)
    for m in out.get("memory", []):
        print(f"\nmemory, {m['count']:,} networks ({m['architectures']} architectures, "
              f"{m['seconds']} s), {'after gc + malloc_trim' if m['trim'] else 'as the OS sees it'}"
              f": RSS first {m['first']} MiB, second half {m['second_half_min']}-"
              f"{m['second_half_max']} MiB, last {m['last']} MiB, peak {m['peak_rss_mib']} MiB")
        print("  RSS MiB after each architecture: " + " ".join(f"{v:.0f}" for v in m["rss_mib"]))
        low, high = m["apart_second_half"]
        print(f"  the process apart (PyTorch's padded steps), as the OS sees it: first "
              f"{m['apart_rss_mib'][0]} MiB, second half {low}-{high} MiB")


def print_rates(out, modules) -> None:
    print(f"stacked_step, {ARCHITECTURES} architectures, float64: networks per second (warm)")
    names = [name for name, _, _ in _variants(modules)]
    print(f"{'batch':>6} " + " ".join(f"{name:>16}" for name in names) + "  jax compile s/arch")
    for size in BATCHES:
        rows = {r["backend"]: r for r in out["by_batch"] if r["batch"] == size}
        print(f"{size:>6} " + " ".join(f"{rows[n]['per_second']:>16,.0f}" for n in names)
              + f"  {rows['jax']['compile_s_per_architecture']:.3f}")
    print(f"\nJAX, one stacked function per architecture ({ARCHITECTURES}, 4,000 networks): "
          "compile s and run s with XLA's default options and with the sweep's")
    for row in out["compile_options"]:
        print(f"  default {row['default_compile_s']:6.3f} {row['default_run_s']:7.4f}   quick "
              f"{row['quick_compile_s']:6.3f} {row['quick_run_s']:7.4f}   {row['architecture']}")
    s = out["sweep"]
    print(f"\ncrosscheck sweep --count {s['count']}: {s['seconds']:.2f} s, "
          f"{s['per_second']:,.0f} cross-checks/s on numpy, torch, jax; largest difference "
          f"{s['max_abs_diff']:.3g}; seconds by backend {s['seconds_by_backend']}; ok {s['ok']}")


if __name__ == "__main__":
    main()
