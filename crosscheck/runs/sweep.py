"""``crosscheck sweep``: random networks cross-checked on every backend, thousands a second.

What makes it fast, and why nothing is hidden by it:

* Architectures are drawn first (widths, activations, bias kinds, samples, loss, rule, mode,
  learning rate), then a group of networks for each, so that every group fills a batch.
* Each backend takes a whole group in one call of its ``stacked_step``: NumPy and PyTorch run
  their own code on arrays with a leading "network" axis (batched matrix products; autograd of
  the sum of independent losses), JAX runs ``jax.vmap`` of its function, ``jit``-compiled once per
  architecture and never again for new weights.
* Every network is still compared, element by element, with the NumPy reference on every other
  backend: the loss, every weight and bias gradient, the rule's error at every layer, every
  parameter after one step, and the loss after it.

The network behind the largest difference is written out as an example file, so that
``crosscheck check FILE`` runs it again through the ordinary, one-network code path.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from crosscheck import atomic
from crosscheck.harness import TOLERANCE
from reference.types import ACTIVATIONS, LOSSES, MODES, RULES, Layer

BIAS_KINDS = ("present", "absent", "frozen")
MAX_DEPTH, MAX_WIDTH, MAX_SAMPLES = 4, 16, 8
PER_ARCHITECTURE = 4000
# Learning rates are log-uniform in [1e-3, 1e-1] times 4 / (the widest layer): a layer's
# curvature grows with its width, and larger steps on wide identity or relu layers make 8 online
# updates blow up (to inf in float64) before the pass ends, which tests divergence, not
# backpropagation. Under proportional, online updates within one pass can also bring a row sum
# near zero (the rule divides by it), so there the range is [1e-3, 1e-2].
LOG_LEARNING_RATE = {False: (-3.0, -1.0), True: (-3.0, -2.0)}


# A network agrees when every number is within this of NumPy's, relative to max(1, |value|).
# float64: the one-step tolerance of `crosscheck run` (measured worst over 90,000 networks:
# 2.5e-14). float32: 1e-4, about 840 ulps, not run's 1e-5: a random network sums up to 8 samples
# × 16 inputs per entry through up to 4 layers, and two correct float32 backends were measured
# up to 3.1e-5 apart (seeds 1-7, 20,000 networks each), where the shipped examples stay below 1e-5.
TOLERANCE_BY_DTYPE = {"float64": TOLERANCE[("float64", "first step")], "float32": 1e-4}


def learning_rate(exponent: float, widths) -> float:
    """10^exponent scaled by 4 / (the widest layer)."""
    return float(10**exponent * 4 / max(widths))


@dataclass(frozen=True)
class Architecture:
    """Everything a group of networks shares, and so everything a compiled function depends on."""

    widths: tuple[int, ...]             # inputs, then every layer's outputs
    activations: tuple[str, ...]
    biases: tuple[str, ...]             # per layer: present, absent or frozen
    samples: int
    loss: str
    rule: str
    mode: str
    learning_rate: float

    def describe(self) -> str:
        return (f"{'-'.join(map(str, self.widths))} {','.join(self.activations)}, bias "
                f"{','.join(self.biases)}, {self.samples} samples, {self.loss}, {self.rule}, "
                f"{self.mode}, lr {self.learning_rate:.3g}")


def draw_architecture(rng: np.random.Generator, rules=RULES) -> Architecture:
    depth = int(rng.integers(1, MAX_DEPTH + 1))
    widths = tuple(int(w) for w in rng.integers(1, MAX_WIDTH + 1, size=depth + 1))
    rule, mode = str(rng.choice(list(rules))), str(rng.choice(MODES))
    low, high = LOG_LEARNING_RATE[(rule, mode) == ("proportional", "online")]
    return Architecture(
        widths=widths,
        activations=tuple(str(a) for a in rng.choice(ACTIVATIONS, size=depth)),
        biases=tuple(str(b) for b in rng.choice(BIAS_KINDS, size=depth)),
        samples=int(rng.integers(1, MAX_SAMPLES + 1)),
        loss=str(rng.choice(LOSSES)),
        rule=rule,
        mode=mode,
        learning_rate=learning_rate(rng.uniform(low, high), widths),
    )


def draw_group(rng: np.random.Generator, arch: Architecture, count: int):
    """(stack, X, T): ``count`` networks of ``arch`` in float64, with their data. Weights are
    N(0, 1/fan-in), biases N(0, 0.25), inputs N(0, 1), targets U(0, 1).

    Under ``proportional`` a neuron's error is divided by the sum of its incoming weights, and a
    sum near zero multiplies every rounding error by Σ|w| / |Σw|; so the weights above the first
    layer are positive there (|N(0, 1/fan-in)|), and the rule is a weighted split of the error,
    as the tutorials draw it."""
    stack = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(arch.widths)):
        weights = rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=(count, fan_out, fan_in))
        if arch.rule == "proportional" and index > 0:
            weights = np.abs(weights)
        kind = arch.biases[index]
        bias = None if kind == "absent" else rng.normal(0.0, 0.5, size=(count, fan_out))
        stack.append(Layer(weights, bias, arch.activations[index], kind != "frozen"))
    X = rng.normal(0.0, 1.0, size=(count, arch.samples, arch.widths[0]))
    T = rng.uniform(0.0, 1.0, size=(count, arch.samples, arch.widths[-1]))
    return tuple(stack), X, T


def plan(count: int, per_architecture: int) -> list[int]:
    """Group sizes: as few architectures as fill groups of at most ``per_architecture``."""
    groups = max(1, -(-count // per_architecture))
    return [count // groups + (k < count % groups) for k in range(groups)]


def leaves(result) -> Iterator[tuple[str, np.ndarray | None]]:
    """(where, stacked array) for every number a stacked step reports, in a fixed order."""
    yield "loss_before", result.loss_before
    grads = result.gradients
    for layer, (gw, gb, error) in enumerate(zip(grads.weights, grads.biases, grads.errors)):
        yield f"gradients[layer {layer}].weights", gw
        yield f"gradients[layer {layer}].bias", gb
        yield f"errors[layer {layer}]", error
    for layer, after in enumerate(result.network):
        yield f"params_after[layer {layer}].weights", after.weights
        yield f"params_after[layer {layer}].bias", after.bias
    yield "loss_after", result.loss_after


@dataclass
class Worst:
    """The largest difference seen: where, on which network and backend, and both values."""

    backend: str = ""
    architecture: int = -1
    network: int = -1
    where: str = ""
    index: tuple[int, ...] = ()
    value: float = 0.0
    reference: float = 0.0
    abs_diff: float = 0.0
    rel_diff: float = 0.0


@dataclass
class GroupCheck:
    """One group compared on one backend: per network, the largest relative difference."""

    per_network: np.ndarray
    max_abs: float
    worst: Worst


def compare_group(backend: str, result, reference, arch_index: int = 0) -> GroupCheck:
    """Every number of ``result`` against ``reference``, per network: |a − b| / max(1, |b|)."""
    count = reference.loss_before.shape[0]
    per_network = np.zeros(count)
    max_abs, worst = 0.0, Worst()
    for (where, a), (_, b) in zip(leaves(result), leaves(reference), strict=True):
        if a is None and b is None:
            continue
        problem = ("reported by only one of them" if (a is None) != (b is None) else
                   f"shape {np.shape(a)[1:]} against {np.shape(b)[1:]}"
                   if np.shape(a) != np.shape(b) else None)
        if problem:                           # nothing to compare number by number
            per_network[:] = np.inf
            worst = Worst(backend, arch_index, 0, f"{where} ({problem})", rel_diff=np.inf,
                          abs_diff=np.inf)
            continue
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        diff = np.abs(a - b).reshape(count, -1)
        scaled = diff / np.maximum(1.0, np.abs(b)).reshape(count, -1)
        scaled[~(scaled <= np.inf)] = np.inf            # NaN anywhere is a disagreement
        per_network = np.maximum(per_network, scaled.max(axis=1))
        max_abs = max(max_abs, float(np.nan_to_num(diff, nan=np.inf).max()))
        k = int(np.argmax(scaled))
        if scaled.flat[k] > worst.rel_diff or worst.network < 0:
            network, flat = divmod(k, scaled.shape[1])
            index = tuple(int(i) for i in np.unravel_index(flat, b.shape[1:]))
            worst = Worst(backend, arch_index, network, where, index,
                          float(a[network][index]), float(b[network][index]),
                          float(diff.flat[k]), float(scaled.flat[k]))
    return GroupCheck(per_network, max_abs, worst)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class SweepReport:
    count: int
    seed: int
    dtype: str
    backends: list[str]
    rules: list[str]
    per_architecture: int
    tolerance: float
    architectures: list[Architecture] = field(default_factory=list)
    seconds: float = 0.0
    setup_seconds: float = 0.0
    seconds_by_backend: dict = field(default_factory=dict)
    max_abs_diff: float = 0.0
    disagreements: int = 0
    worst: Worst = field(default_factory=Worst)
    worst_file: str | None = None

    @property
    def ok(self) -> bool:
        return self.disagreements == 0

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else math.inf

    def to_json(self) -> dict:
        """Plain JSON: NaN and infinities (a backend that reported nothing comparable) as null."""
        worst = self.worst
        return {
            "count": self.count, "seconds": round(self.seconds, 4),
            "per_second": round(self.per_second, 1), "max_abs_diff": _finite(self.max_abs_diff),
            "max_rel_diff": _finite(worst.rel_diff), "tolerance": self.tolerance, "ok": self.ok,
            "disagreements": self.disagreements, "seed": self.seed, "dtype": self.dtype,
            "backends": self.backends, "rules": self.rules,
            "architectures": len(self.architectures), "per_architecture": self.per_architecture,
            "seconds_by_backend": {k: round(v, 4) for k, v in self.seconds_by_backend.items()},
            "setup_seconds": round(self.setup_seconds, 4),
            "worst": {"backend": worst.backend, "architecture": worst.architecture,
                      "network": worst.network, "where": worst.where, "index": list(worst.index),
                      "value": _finite(worst.value), "reference": _finite(worst.reference),
                      "abs_diff": _finite(worst.abs_diff), "rel_diff": _finite(worst.rel_diff),
                      "file": self.worst_file,
                      "check": check_command(self) if self.worst_file else None},
        }


def _warm_up(modules: dict, dtype: str) -> float:
    """Seconds for one tiny stacked step on every backend: the frameworks' first-call costs
    (PyTorch's SGD imports torch._dynamo, about 1.5 s) kept out of the sweep's own seconds."""
    began = time.perf_counter()
    arch = Architecture((1, 1), ("identity",), ("absent",), 1, "half_sse", "exact", "batch", 0.1)
    group = draw_group(np.random.default_rng(0), arch, 1)
    for module in modules.values():
        module.stacked_step(*group, arch.loss, arch.learning_rate, arch.rule, arch.mode, dtype)
    return time.perf_counter() - began


@contextmanager
def _one_torch_thread():
    """PyTorch with one intra-op thread while the sweep runs, as it was afterwards. The sweep's
    tensors are thousands of matrices of at most 16×16: on an idle machine two threads are at
    most 1.7 times faster, but with the other core busy one thread did 125,000 networks a second
    against 14,000 on two (benchmarks/README.md)."""
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch:
            torch.set_num_threads(threads)


def sweep(modules: dict, count: int, seed: int = 0, rules=RULES, dtype: str = "float64",
          per_architecture: int = PER_ARCHITECTURE, worst_file=None, progress=None
          ) -> SweepReport:
    """Cross-check ``count`` random networks on ``modules`` (NumPy's reference among them)."""
    if "numpy" not in modules:
        raise ValueError("the sweep compares every backend with the NumPy reference: include "
                         "numpy in --backends")
    report = SweepReport(count, seed, dtype, list(modules), list(rules), per_architecture,
                         TOLERANCE_BY_DTYPE[dtype])
    report.seconds_by_backend = dict.fromkeys(modules, 0.0)
    with _one_torch_thread():
        worst_group = _run(modules, report, progress)
    if worst_file and worst_group:
        arch, group = worst_group
        atomic.write_text(worst_file, to_toml(arch, group, report.worst.network, report))
        report.worst_file = str(worst_file)
    return report


def groups(seed: int, count: int, per_architecture: int = PER_ARCHITECTURE, rules=RULES
           ) -> Iterator[tuple[Architecture, tuple]]:
    """The sweep's draws in order: (architecture, (stack, X, T)) for every group, read-only."""
    rng = np.random.default_rng(seed)
    for size in plan(count, per_architecture):
        arch = draw_architecture(rng, rules)
        group = draw_group(rng, arch, size)
        for array in _arrays(group):
            array.setflags(write=False)      # no backend may write into what it compares
        yield arch, group


def _arrays(group):
    stack, X, T = group
    return [X, T] + [a for layer in stack for a in (layer.weights, layer.bias) if a is not None]


def _run(modules: dict, report: SweepReport, progress):
    """Draw, compute and compare every group; return the group with the worst network."""
    worst_group = None
    total = len(plan(report.count, report.per_architecture))
    report.setup_seconds = _warm_up(modules, report.dtype)
    start = time.perf_counter()
    for arch_index, (arch, group) in enumerate(groups(report.seed, report.count,
                                                      report.per_architecture, report.rules)):
        report.architectures.append(arch)
        results = {}
        for name, module in modules.items():
            began = time.perf_counter()
            results[name] = module.stacked_step(*group, arch.loss, arch.learning_rate,
                                                arch.rule, arch.mode, report.dtype)
            report.seconds_by_backend[name] += time.perf_counter() - began
        for name, result in results.items():
            if name == "numpy":
                continue
            checked = compare_group(name, result, results["numpy"], arch_index)
            report.disagreements += int((checked.per_network > report.tolerance).sum())
            report.max_abs_diff = max(report.max_abs_diff, checked.max_abs)
            if checked.worst.rel_diff > report.worst.rel_diff or report.worst.network < 0:
                report.worst, worst_group = checked.worst, (arch, group)
        if progress:
            progress("sweep", arch_index + 1, total)
    report.seconds = time.perf_counter() - start
    return worst_group


def network(group, k: int):
    """Network ``k`` of a group, with its data: (Network, X, T)."""
    stack, X, T = group
    return (tuple(Layer(layer.weights[k], None if layer.bias is None else layer.bias[k],
                        layer.activation, layer.train_bias) for layer in stack), X[k], T[k])


def _numbers(array) -> str:
    if np.ndim(array) == 1:
        return "[" + ", ".join(repr(float(v)) for v in array) + "]"
    return "[" + ", ".join(_numbers(row) for row in array) + "]"


def to_toml(arch: Architecture, group, k: int, report: SweepReport) -> str:
    """Network ``k`` of ``group`` as an example file that ``crosscheck check`` runs."""
    net, X, T = network(group, k)
    worst = report.worst
    lines = [
        f'name = "sweep-seed{report.seed}-worst"',
        f'title = "crosscheck sweep --seed {report.seed}: the network with the largest '
        f'difference"',
        f'source = """crosscheck sweep --count {report.count} --seed {report.seed} '
        f'--dtype {report.dtype}: network {k} of architecture {worst.architecture} '
        f'({arch.describe()}).\n'
        f'Largest difference: {worst.backend} {worst.where}{_index(worst)}: '
        f'{worst.value!r} against NumPy {worst.reference!r} (relative {worst.rel_diff:.3g})."""',
        f'loss = "{arch.loss}"',
        f"learning_rate = {arch.learning_rate!r}",
        "steps = 1",
        f'mode = "{arch.mode}"',
        f'rule = "{arch.rule}"',
    ]
    for layer in net:
        lines += ["", "[[layers]]", f'activation = "{layer.activation}"',
                  f"weights = {_numbers(layer.weights)}"]
        if layer.bias is not None:
            lines.append(f"bias = {_numbers(layer.bias)}")
            if not layer.train_bias:
                lines.append("train_bias = false")
    lines += ["", "[data]", f"inputs = {_numbers(X)}", f"targets = {_numbers(T)}", ""]
    return "\n".join(lines)


def check_command(report: SweepReport) -> str:
    """The command that runs the worst network again, on the sweep's backends and dtype."""
    dtype = "" if report.dtype == "float64" else f" --dtype {report.dtype}"
    return (f"crosscheck check {report.worst_file} --backends {','.join(report.backends)}"
            f"{dtype}")


def _index(worst: Worst) -> str:
    return f" index {list(worst.index)}" if worst.index else ""


def render(report: SweepReport) -> str:
    """The sweep as plain text: what ran, how fast, the largest difference and the verdict."""
    worst = report.worst
    groups = len(report.architectures)
    timing = ", ".join(f"{name} {sec:.2f}" for name, sec in report.seconds_by_backend.items())
    lines = [
        f"crosscheck sweep: {report.count} random networks on {', '.join(report.backends)} "
        f"({report.dtype}), seed {report.seed}",
        f"  architectures     {groups} (up to {report.per_architecture} networks each); rules "
        f"{','.join(report.rules)}",
        f"  seconds           {report.seconds:.2f} ({timing}; then comparing), after "
        f"{report.setup_seconds:.2f} s of setup",
        f"  cross-checks/s    {report.per_second:,.0f}",
        f"  largest diff      {report.max_abs_diff:.3g} absolute; worst relative "
        f"{worst.rel_diff:.3g} (tolerance {report.tolerance:g})",
    ]
    if worst.network >= 0:
        arch = report.architectures[worst.architecture]
        lines.append(f"  worst network     {worst.backend}: {worst.where}{_index(worst)}: "
                     f"{worst.value!r} vs numpy {worst.reference!r}")
        lines.append(f"                    network {worst.network} of architecture "
                     f"{worst.architecture}: {arch.describe()}")
    if report.worst_file:
        lines.append(f"  written to        {report.worst_file} ({check_command(report)})")
    lines.append("ok: every network agrees on every backend" if report.ok else
                 f"DISAGREEMENT: {report.disagreements} network(s) past the tolerance")
    return "\n".join(lines)


__all__ = ["Architecture", "check_command", "compare_group", "draw_architecture", "draw_group",
           "groups", "plan", "render", "sweep", "to_toml"]
