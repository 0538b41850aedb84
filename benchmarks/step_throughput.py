"""One training step of a 1024-2048-2048-10 sigmoid MLP at batch 512, float32, on every backend,
against the machine's GEMM peak measured in the same run.

The step is each backend's public ``step`` (rule ``exact``, batch mode, ``half_sse``), NumPy in
and NumPy out, as ``crosscheck`` calls it. Its rate is 6·batch·parameters FLOP per step (2 for
the forward product, 4 for the two backward ones). The GEMM peak is a 2048×2048×2048 float32
matrix product (2·2048³ FLOP) in NumPy, PyTorch and JAX. Every figure is the best of
``--repeats`` timed calls after one untimed call (which also compiles JAX).

Prints a table; ``--json`` prints ``{"gemm_gflops": {"numpy", "torch", "jax"}, "step_gflops":
{...}, "step_seconds": {...}, "numpy_vs_best_gemm", "numpy_vs_torch_step", "products_gflop",
"numpy_products_vs_numpy_gemm", "threads", "versions"}``: the last ratio counts only the matrix
products the step performs (no error is sent below the first layer).

    .venv/bin/python benchmarks/step_throughput.py [--repeats 10] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time

import numpy as np

from crosscheck import backends
from reference import Layer

SIZES = (1024, 2048, 2048, 10)
BATCH = 512
GEMM_N = 2048


def best_seconds(call, repeats: int) -> float:
    call()                                    # untimed: warms caches, compiles JAX
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_calls(rng) -> dict:
    """A 2048³ float32 matrix product per framework, as a call that returns when it is done."""
    a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    calls = {"numpy": lambda: a @ b}
    import torch

    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    calls["torch"] = lambda: ta @ tb
    import jax
    import jax.numpy as jnp

    ja, jb = jnp.asarray(a), jnp.asarray(b)
    product = jax.jit(jnp.matmul)
    calls["jax"] = lambda: product(ja, jb).block_until_ready()
    return calls


def problem(rng):
    net = tuple(
        Layer((rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(np.float32),
              np.zeros(fan_out, dtype=np.float32), "sigmoid")
        for fan_in, fan_out in itertools.pairwise(SIZES))
    X = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    T = rng.uniform(size=(BATCH, SIZES[-1])).astype(np.float32)
    return net, X, T


def products(net) -> int:
    """FLOP of the matrix products a step performs: the forward product of every layer, its
    weight gradient, and the error sent to the layer below (none below the first)."""
    sizes = [layer.weights.size for layer in net]
    return 2 * BATCH * (2 * sum(sizes) + sum(sizes[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    modules = {name: backends.load(name) for name in ("numpy", "torch", "jax")}
    net, X, T = problem(rng)
    params = sum(layer.weights.size + layer.bias.size for layer in net)
    step_flop, gemm_flop = 6 * BATCH * params, 2 * GEMM_N**3
    products_flop = products(net)

    gemm = {name: gemm_flop / best_seconds(call, args.repeats) / 1e9
            for name, call in gemm_calls(rng).items()}
    seconds = {name: best_seconds(lambda m=module: m.step(net, X, T, "half_sse", 0.1,
                                                          dtype="float32"), args.repeats)
               for name, module in modules.items()}
    step = {name: step_flop / sec / 1e9 for name, sec in seconds.items()}
    import torch

    out = {
        "gemm_gflops": {k: round(v, 1) for k, v in gemm.items()},
        "step_gflops": {k: round(v, 1) for k, v in step.items()},
        "step_seconds": {k: round(v, 4) for k, v in seconds.items()},
        "numpy_vs_best_gemm": round(step["numpy"] / max(gemm.values()), 3),
        "numpy_vs_torch_step": round(step["numpy"] / step["torch"], 3),
        "products_gflop": round(products_flop / 1e9, 2),
        "numpy_products_vs_numpy_gemm": round(products_flop / seconds["numpy"] / 1e9
                                              / gemm["numpy"], 3),
        "parameters": params, "batch": BATCH, "step_gflop": round(step_flop / 1e9, 2),
        "threads": {"cpus": os.cpu_count(), "torch": torch.get_num_threads()},
        "versions": {name: module.version() for name, module in modules.items()},
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"1024-2048-2048-10 sigmoid MLP, batch {BATCH}, float32: {params:,} parameters, "
          f"{step_flop / 1e9:.2f} GFLOP per step; best of {args.repeats}")
    print(f"{'backend':<8} {'GEMM GFLOP/s':>13} {'step s':>8} {'step GFLOP/s':>13} "
          f"{'step / best GEMM':>17}")
    for name in modules:
        print(f"{name:<8} {gemm[name]:>13.1f} {seconds[name]:>8.4f} {step[name]:>13.1f} "
              f"{step[name] / max(gemm.values()):>17.2f}")
    print(f"NumPy step: {out['numpy_vs_best_gemm']:.2f} of the best GEMM peak, "
          f"{out['numpy_vs_torch_step']:.2f} of PyTorch's step; counted on the "
          f"{out['products_gflop']:.2f} GFLOP of products it performs, "
          f"{out['numpy_products_vs_numpy_gemm']:.2f} of NumPy's own GEMM")


if __name__ == "__main__":
    main()
