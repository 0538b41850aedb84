"""``crosscheck sweep``: random networks cross-checked on every backend, thousands a second.

What makes it fast, and why nothing is hidden by it:

* Architectures are drawn first (widths, activations, bias kinds, samples, loss, rule, mode,
  learning rate), then a group of networks for each: 20 by default, so that a sweep draws a
  new architecture every 20 networks.
* The NumPy reference takes each group in one call of its ``stacked_step``: its own code on
  arrays with a leading "network" axis.
* The frameworks take the groups of fewer than PADDED_BELOW networks of one mode together, at
  most PADDED_CALL networks at a time, as one padded stack (``reference/padded.py``: every
  network padded to 4 layers of 16 neurons and 8 samples, its activations, loss, rule and
  learning rate chosen per network inside the call): so PyTorch makes its eager calls once per
  call of about PADDED_CALL networks, and JAX compiles its function once per mode, not once per
  architecture. Each framework computes the calls in a thread of its own as soon as their groups
  are drawn, while this thread computes the NumPy reference and compares the calls before them
  (``_PaddedCalls``); from APART_FROM networks on, PyTorch's thread has them computed in a
  process of its own, out of the interpreter lock (``crosscheck/runs/apart.py``). A larger
  group is one
  ``stacked_step`` call of each framework (batched matrix products and autograd of the sum of
  independent losses in PyTorch; ``jax.vmap`` of JAX's function, compiled for that
  architecture), where compiling costs less than padding would.
* What a call frees stays in the process for the next call (``crosscheck/runs/memory.py``):
  fresh pages, faulted in and zeroed by the kernel, cost a fifth to a third of the sweep's CPU.
* With ``optimizers=True`` (``--optimizers``) every architecture also draws an optimizer, its
  convention and its settings (``draw_optimizer``), among those every backend computes, and the
  step is that optimizer's first update, in batch mode. Online, an optimizer's later updates
  within the step mix the samples' gradients, and where those cancel, the step inherits more
  rounding than the magnitudes of its terms say (measured: 1 network in 1,000 past the
  tolerance, at 7.6 times it); the online state is checked by ``tests/test_optimizers.py``.
  These groups are never padded (a padded step is plain gradient descent).
* Every network is still compared, element by element, with the NumPy reference (computed
  unpadded) on every other backend: the loss, every weight and bias gradient, the rule's error
  at every layer, every parameter after one step, and the loss after it.

Every number is judged as ``crosscheck run`` judges it (``crosscheck/compare``): against the
magnitude of the terms it is computed from, at the first step's tolerance. A network whose step
blows up on the reference (the loss after it is not finite, or more than ten times the loss
before) has diverged: rounding differences grow with it, so it is counted, not compared.

The network behind the largest difference is written out as an example file, so that
``crosscheck check FILE`` runs it again through the ordinary, one-network code path.

A long sweep splits into shards: shard K of N (``--shard K/N``) computes the architectures whose
index i has i mod N = K − 1, after drawing every architecture before them, so each shard draws
exactly what the whole sweep draws, and the N shards together are the whole sweep; ``merge``
makes one report of their reports (``--jobs J`` runs J shards as local processes).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field

import numpy as np

from crosscheck import atomic
from crosscheck.compare.comparison import Comparison, Disagreement
from crosscheck.compare.magnitudes import after_optimizer, magnitudes
from crosscheck.compare.quantities import BY_KEY, STACKED, Parameters, Result
from crosscheck.compare.tolerances import FIRST_STEP, TOLERANCE, tolerance
from crosscheck.examples import writer
from crosscheck.runs import memory
from crosscheck.runs import padded as padded_module
from crosscheck.runs.apart import Apart, available
from reference.optimizers import CONVENTIONS, HYPERPARAMETERS, NAMES, Optimizer, check
from reference.types import ACTIVATIONS, LOSS_OUTPUTS, LOSSES, MODES, RULES, Layer

BIAS_KINDS = ("present", "absent", "frozen")
MAX_DEPTH, MAX_WIDTH, MAX_SAMPLES = 4, 16, 8
PER_ARCHITECTURE = 20
SHAPE = (MAX_DEPTH, MAX_WIDTH, MAX_SAMPLES)
# Groups smaller than this are computed as padded stacks of many architectures, in calls of
# at most PADDED_CALL networks (a multiple of JAX's chunk); a larger group is computed alone,
# where a framework's cost per architecture (JAX's compilation, 0.2 s) is less than padding
# costs it (benchmarks/README.md).
PADDED_BELOW = 512
PADDED_CALL = 2048
# A process apart takes about 2 s to start (it imports PyTorch), in the sweep's setup: a sweep of
# fewer networks than one call computes PyTorch's padded steps in the sweep's process.
APART_FROM = PADDED_CALL
# Learning rates are log-uniform in [1e-3, 1e-1] times 4 / (the widest layer): a layer's
# curvature grows with its width, and larger steps on wide identity or relu layers make 8 online
# updates blow up (to inf in float64) before the pass ends, which tests divergence, not
# backpropagation. Under proportional, online updates within one pass can also bring a row sum
# near zero (the rule divides by it), so there the range is [1e-3, 1e-2].
LOG_LEARNING_RATE = {False: (-3.0, -1.0), True: (-3.0, -2.0)}


# A step that multiplies the loss by more than this has not descended but blown up (see the
# module docstring): measured, the sweep's own draws do so in none of 10,000 networks, and
# networks with weights four times as large in 1 of 50.
DIVERGED = 10.0


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
    optimizer: Optimizer | None = None  # None: plain gradient descent

    def describe(self) -> str:
        return (f"{'-'.join(map(str, self.widths))} {','.join(self.activations)}, bias "
                f"{','.join(self.biases)}, {self.samples} samples, {self.loss}, {self.rule}, "
                f"{self.mode}, lr {self.learning_rate:.3g}"
                + (f", {self.optimizer}" if self.optimizer else ""))


def draw_architecture(rng: np.random.Generator, rules=RULES) -> Architecture:
    depth = int(rng.integers(1, MAX_DEPTH + 1))
    widths = tuple(int(w) for w in rng.integers(1, MAX_WIDTH + 1, size=depth + 1))
    rule, mode = _pick(rng, tuple(rules)), _pick(rng, MODES)
    low, high = LOG_LEARNING_RATE[(rule, mode) == ("proportional", "online")]
    drawn, biases = _pick(rng, ACTIVATIONS, depth), _pick(rng, BIAS_KINDS, depth)
    samples, loss = int(rng.integers(1, MAX_SAMPLES + 1)), _pick(rng, LOSSES)
    return Architecture(
        widths=widths,
        activations=suited(drawn, loss),
        biases=biases,
        samples=samples,
        loss=loss,
        rule=rule,
        mode=mode,
        learning_rate=learning_rate(rng.uniform(low, high), widths),
    )


def _pick(rng: np.random.Generator, options: tuple, size: int | None = None):
    """``rng.choice(options, size)`` as str or a tuple of them, drawn as Generator.choice draws
    (``integers(0, len(options))``: the same numbers) without making an array of the options."""
    if size is None:
        return options[int(rng.integers(0, len(options)))]
    return tuple(options[int(k)] for k in rng.integers(0, len(options), size=size))


def suited(activations: tuple[str, ...], loss: str) -> tuple[str, ...]:
    """The drawn activations with an output layer the loss can read: a classification loss
    whose output activation is not one it takes gets an identity output layer (logits)."""
    if activations[-1] in LOSS_OUTPUTS.get(loss, ACTIVATIONS):
        return activations
    return (*activations[:-1], "identity")


# How each setting is drawn when it is drawn (each is left at its default half the time).
SETTINGS = {
    "momentum": lambda rng: float(rng.uniform(0.5, 0.95)),
    "dampening": lambda rng: float(rng.uniform(0.0, 0.5)),
    "nesterov": lambda rng: True,
    "weight_decay": lambda rng: float(rng.uniform(0.0, 0.1)),
    "betas": lambda rng: (float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.99, 0.9999))),
    "eps": lambda rng: float(10 ** rng.uniform(-8, -4)),
    "amsgrad": lambda rng: True,
    "alpha": lambda rng: float(rng.uniform(0.9, 0.999)),
    "centered": lambda rng: True,
    "eps_in_sqrt": lambda rng: False,
}


def draw_optimizer(rng: np.random.Generator, accepts=lambda spec: True) -> Optimizer:
    """A random optimizer, convention and settings that ``check`` allows and ``accepts(spec)``
    (every backend of the sweep computes it): drawn again until both hold."""
    while True:
        name, convention = str(rng.choice(NAMES)), str(rng.choice(CONVENTIONS))
        settings = {key: SETTINGS[key](rng) for key in HYPERPARAMETERS[name]
                    if rng.random() < 0.5}
        try:
            spec = check(Optimizer(name, convention, **settings))
        except ValueError:
            continue
        if accepts(spec):
            return spec


def draw_group(rng: np.random.Generator, arch: Architecture, count: int):
    """(stack, X, T): ``count`` networks of ``arch`` in float64, with their data. Weights are
    N(0, 1/fan-in), biases N(0, 0.25), inputs N(0, 1), targets U(0, 1) (for cross-entropy, each row
    divided by its sum: class probabilities).

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
    if arch.loss.startswith("cross_entropy"):       # rows of class probabilities
        T /= T.sum(axis=-1, keepdims=True)
    return tuple(stack), X, T


def plan(count: int, per_architecture: int) -> list[int]:
    """Group sizes: as few architectures as fill groups of at most ``per_architecture``."""
    groups = max(1, -(-count // per_architecture))
    return [count // groups + (k < count % groups) for k in range(groups)]


def as_result(step) -> Result:
    """A backend's StackedStep as a Result of stacked arrays."""
    grads = step.gradients
    return Result(step.loss_before,
                  tuple(Parameters(w, b) for w, b in zip(grads.weights, grads.biases)),
                  tuple(grads.errors),
                  tuple(Parameters(layer.weights, layer.bias) for layer in step.network),
                  np.asarray(step.loss_after)[:, None])


def diverged(result: Result) -> np.ndarray:
    """Per network: did the reference's step blow up?"""
    before, after = np.asarray(result.loss_before), np.asarray(result.losses[:, -1])
    with np.errstate(invalid="ignore", over="ignore"):
        return ~np.isfinite(after) | (after > DIVERGED * before)


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
    diverged: int = 0
    worst: Disagreement | None = None
    worst_architecture: int = -1
    worst_file: str | None = None
    versions: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)     # built-in backends that did not load
    optimizers: bool = False                         # each architecture draws an optimizer
    shard: tuple[int, int] = (1, 1)                  # K of N
    networks: int = 0                                # those of this shard (all: count)
    indices: list[int] = field(default_factory=list)  # each architecture's index in the sweep

    @property
    def ok(self) -> bool:
        return self.disagreements == 0

    def architecture(self, index: int) -> Architecture:
        """The architecture of the sweep's ``index``."""
        return self.architectures[self.indices.index(index)]

    @property
    def per_second(self) -> float:
        return self.networks / self.seconds if self.seconds > 0 else math.inf


# The memory that the padded calls alive at once hold, faulted in during the setup
# (``crosscheck/runs/memory.py``): measured, the process's heap grows by 430 MB during a
# 4,000-network sweep after the padded steps of the warm-up.
RESERVED_MB = 512


def _warm_up(modules: dict, dtype: str, steps: dict) -> float:
    """Seconds for one tiny stacked step on every backend, with padded ``steps`` (each
    framework's padded_step) one padded step of PADDED_CALL networks in each mode on every
    framework (of draws of their own, not the sweep's), and RESERVED_MB of memory faulted in:
    the first-call costs (PyTorch's SGD imports torch._dynamo, about 1.5 s; JAX compiles its
    padded step once per mode, a few seconds; a process apart starts, 2 s; fresh memory from
    the OS, 0.2 s) kept out of the sweep's own seconds."""
    began = time.perf_counter()
    arch = Architecture((1, 1), ("identity",), ("absent",), 1, "half_sse", "exact", "batch", 0.1)
    group = draw_group(np.random.default_rng(0), arch, 1)
    stack = padded_module.pad(list(groups(0, PADDED_CALL)), SHAPE, dtype) if steps else None
    for module in modules.values():
        module.stacked_step(*group, arch.loss, arch.learning_rate, arch.rule, arch.mode, dtype)
    for step, mode in itertools.product(steps.values(), MODES):
        step(stack, mode)
    if memory.keep_freed():
        memory.reserve(RESERVED_MB)
    return time.perf_counter() - began


def _padded(modules: dict, report: SweepReport) -> bool:
    """Whether the sweep computes padded stacks: groups of fewer than PADDED_BELOW networks,
    plain gradient descent, and every framework has a ``padded_step`` (else one stacked step
    per group, as for the optimizers)."""
    frameworks = [module for name, module in modules.items() if name != "numpy"]
    small = min(plan(report.count, report.per_architecture)) < PADDED_BELOW
    return bool(frameworks) and small and not report.optimizers and all(
        hasattr(module, "padded_step") for module in frameworks)


@contextmanager
def _padded_steps(modules: dict, padded: bool, apart):
    """Each framework's padded_step (none if not ``padded``), in the order the sweep compares
    them: those named in ``apart`` last, each of a process of its own
    (``crosscheck/runs/apart.py``)."""
    frameworks = [name for name in modules if name != "numpy"] if padded else []
    with ExitStack() as stack:
        steps = {name: modules[name].padded_step for name in frameworks if name not in apart}
        for name in frameworks:         # last: compared last (they finish last)
            if name in apart:
                steps[name] = stack.enter_context(Apart(modules[name].__name__)).padded_step
        yield steps


def apart_by_default(modules: dict, networks: int) -> tuple[str, ...]:
    """The frameworks whose padded steps ``crosscheck sweep`` computes apart in a sweep of
    ``networks``: PyTorch, the built-in one, where it can and from APART_FROM networks on
    (``crosscheck/runs/apart.py`` says why)."""
    torch = modules.get("torch")
    built_in = getattr(torch, "__name__", "") == "torch_impl"
    return ("torch",) if available() and built_in and networks >= APART_FROM else ()


@contextmanager
def one_torch_thread():
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


# The niceness of XLA's threads while a framework computes apart. Measured on the 2-core machine
# (`crosscheck sweep --count 4000 --per-architecture 20 --seed 3`, 8 runs each, alternately): a
# median of 9,755 cross-checks a second with XLA's threads at the sweep's priority, 10,478 at 10.
XLA_NICE = 10


@contextmanager
def xla_threads_behind():
    """XLA's CPU threads in this process at nice XLA_NICE while the sweep runs. On 2 cores four
    threads want them: PyTorch's process apart and the sweep's own thread (the reference and the
    comparison), which are the sweep's critical path, and XLA's two, which had time to spare
    (their steps finished well before PyTorch's). Their priority is put back afterwards where
    the OS allows it (an unprivileged process may not raise a priority again: there they stay
    lower for the rest of the process, which matters only while they compete for a core).
    Linux only: elsewhere it changes nothing."""
    threads = {}
    for tid in _xla_threads():
        try:
            nice = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, max(nice, XLA_NICE))
            threads[tid] = nice
        except OSError:                 # ended, or a sandbox that refuses
            pass
    try:
        yield
    finally:
        for tid, nice in threads.items():
            try:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
            except OSError:             # not allowed (unprivileged), or ended
                pass


def _xla_threads() -> list[int]:
    """The ids of this process's threads that XLA's CPU client runs (jaxlib names them
    ``tf_XLAEigen``)."""
    try:
        tids = os.listdir("/proc/self/task")
    except FileNotFoundError:
        return []
    found = []
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/comm") as comm:
                if "XLAEigen" in comm.read():
                    found.append(int(tid))
        except FileNotFoundError:       # a thread that has ended
            pass
    return found


def sweep(modules: dict, count: int, seed: int = 0, rules=RULES, dtype: str = "float64",
          per_architecture: int = PER_ARCHITECTURE, worst_file=None, progress=None,
          optimizers: bool = False, shard: tuple[int, int] = (1, 1), apart=()) -> SweepReport:
    """Cross-check ``count`` random networks on ``modules`` (NumPy's reference among them);
    ``optimizers``: each architecture steps by a drawn optimizer that every module computes;
    ``shard`` (K, N): only the architectures of shard K of N (see the module docstring);
    ``apart``: the frameworks whose padded steps are computed in a process of their own
    (``apart_by_default``), each from its module imported again by its name there."""
    if "numpy" not in modules:
        raise ValueError("the sweep compares every backend with the NumPy reference: include "
                         "numpy in --backends")
    report = SweepReport(count, seed, dtype, list(modules), list(rules), per_architecture,
                         TOLERANCE[(dtype, FIRST_STEP)])
    report.seconds_by_backend = dict.fromkeys(modules, 0.0)
    report.optimizers, report.shard = optimizers, shard
    report.versions = {name: module.version() for name, module in modules.items()}
    with one_torch_thread():
        worst_group = _run(modules, report, progress, apart)
    if worst_file and worst_group:
        write_worst(report, worst_group, worst_file)
    return report


def write_worst(report: SweepReport, worst_group, path) -> None:
    """The worst network of ``worst_group`` (its architecture and group) as an example file."""
    arch, group = worst_group
    atomic.write_text(path, to_toml(arch, group, report.worst.network, report))
    report.worst_file = str(path)


def groups(seed: int, count: int, per_architecture: int = PER_ARCHITECTURE, rules=RULES,
           accepts=None) -> Iterator[tuple[Architecture, tuple]]:
    """The sweep's draws in order: (architecture, (stack, X, T)) for every group, read-only;
    with ``accepts`` (a test of an Optimizer) every architecture draws an optimizer too."""
    rng = np.random.default_rng(seed)
    for size in plan(count, per_architecture):
        arch = draw_architecture(rng, rules)
        if accepts is not None:
            arch = dataclasses.replace(arch, mode="batch",
                                       optimizer=draw_optimizer(rng, accepts))
        group = draw_group(rng, arch, size)
        for array in _arrays(group):
            array.setflags(write=False)      # no backend may write into what it compares
        yield arch, group


def _arrays(group):
    stack, X, T = group
    return [X, T] + [a for layer in stack for a in (layer.weights, layer.bias) if a is not None]


def _run(modules: dict, report: SweepReport, progress, apart):
    """Draw, compute and compare every group; return the group with the worst network."""
    padded = _padded(modules, report)
    with _padded_steps(modules, padded, apart) as steps:
        return _drawn_and_compared(modules, report, progress, steps,
                                   behind=any(name in apart for name in steps))


def _drawn_and_compared(modules: dict, report: SweepReport, progress, steps: dict,
                        behind: bool = False):
    """``_run`` with each framework's padded ``steps`` (none: no padded stacks); ``behind``:
    XLA's threads give way to the process apart (``xla_threads_behind``)."""
    k, n = report.shard
    sizes = plan(report.count, report.per_architecture)
    mine = [i for i in range(len(sizes)) if i % n == k - 1]
    report.networks = sum(sizes[i] for i in mine)
    padded = bool(steps)
    report.setup_seconds = _warm_up(modules, report.dtype, steps)
    start = time.perf_counter()
    draws = groups(report.seed, sum(sizes), report.per_architecture, report.rules,
                   accepted_by(modules) if report.optimizers else None)
    pending = {mode: [] for mode in MODES}
    with xla_threads_behind() if behind else nullcontext(), \
            _PaddedCalls(modules, report, steps) as calls:
        for arch_index, (arch, group) in enumerate(draws):
            if arch_index % n != k - 1:
                continue                # drawn, so that the next draws are the sweep's own
            report.architectures.append(arch)
            report.indices.append(arch_index)
            if not padded or len(group[1]) >= PADDED_BELOW:
                calls.fold(_check_group(modules, report, arch, group),
                           [(arch_index, arch, group)])
            else:
                waiting = pending[arch.mode]
                if waiting and sum(len(g[2][1]) for g in waiting) + len(group[1]) > PADDED_CALL:
                    calls.start(waiting)
                    pending[arch.mode] = waiting = []
                waiting.append((arch_index, arch, group))
            if progress:
                progress("sweep", len(report.indices), len(mine))
        for waiting in pending.values():
            if waiting:
                calls.start(waiting)
        worst = calls.finish()
    report.seconds = time.perf_counter() - start
    return worst


# Padded calls computed or waiting to be compared at once: the frameworks go on to the next
# call while this thread compares one; each call's numbers take about 100 MB.
IN_FLIGHT = 2


class _PaddedCalls:
    """The sweep's padded calls: every framework's padded step of a call is set to run in that
    framework's thread as soon as the call's groups are drawn, while this thread computes the
    NumPy reference of the calls and compares them, in order, at most IN_FLIGHT calls
    behind."""

    def __init__(self, modules: dict, report: SweepReport, steps: dict):
        self.modules, self.report, self.worst, self.running = modules, report, None, []
        self.steps = steps

    def __enter__(self):
        # A thread for each framework, which computes its calls one after another (as its
        # process apart does): its seconds are its calls', not a wait for the one before.
        self.pools = {name: ThreadPoolExecutor(max_workers=1) for name in self.steps}
        return self

    def __exit__(self, *exc):
        for pool in self.pools.values():
            pool.shutdown(cancel_futures=True)

    def fold(self, checked, drawn) -> None:
        self.worst = _fold(self.report, self.worst, checked, drawn)

    def start(self, drawn) -> None:
        """Pad the ``drawn`` groups of one mode, in the order in which the frameworks compute
        them (``Padded.order``: by depth in batch mode, by samples online), and set the
        frameworks on them."""
        mode = drawn[0][1].mode
        drawn = sorted(drawn, key=lambda found: -(
            found[1].samples if mode == "online" else len(found[1].activations)))
        stack = padded_module.pad([(arch, group) for _, arch, group in drawn], SHAPE,
                                  self.report.dtype)
        self.running.append((drawn, stack, {name: self.pools[name].submit(_timed, step, stack, mode)
                                            for name, step in self.steps.items()}))
        while len(self.running) > IN_FLIGHT:
            self._compare_first()

    def finish(self) -> tuple | None:
        """Compare every call still running; return the group with the worst network."""
        while self.running:
            self._compare_first()
        return self.worst

    def _compare_first(self) -> None:
        call = self.running.pop(0)
        self.fold(_check_padded(self.modules, self.report, *call), call[0])


def _fold(report: SweepReport, worst, checked, drawn):
    """Count a checked (Comparison, diverged count) of the ``drawn`` groups ((index,
    architecture, group) each, their networks in order) into ``report``; return the worst
    (architecture, group) so far."""
    comparison, blew_up = checked
    report.diverged += blew_up
    report.max_abs_diff = max(report.max_abs_diff, comparison.max_abs_diff)
    if comparison.per_network is not None:
        report.disagreements += int((comparison.per_network > 1).sum())
    found = comparison.worst
    if found is None or (report.worst is not None and found.excess <= report.worst.excess):
        return worst
    if found.network is None:          # a whole array missing or misshapen: no one network
        report.worst, report.worst_architecture = found, drawn[0][0]
        return None
    start = 0
    for arch_index, arch, group in drawn:
        if found.network < start + len(group[1]):
            report.worst = dataclasses.replace(found, network=found.network - start)
            report.worst_architecture = arch_index
            return arch, group
        start += len(group[1])
    raise AssertionError("a worst network outside the groups compared")


# A network whose step blows up overflows NumPy's arithmetic; the sweep counts it as diverged
# (``diverged``), so NumPy's warnings would only say so again, on stderr.
_COUNTED_NOT_WARNED = {"over": "ignore", "invalid": "ignore"}


def _check_group(modules: dict, report: SweepReport, arch: Architecture, group):
    """(Comparison, diverged count) of one group on every module, one stacked step each."""
    results = {}
    optimizer = {"optimizer": arch.optimizer} if arch.optimizer else {}
    for name, module in modules.items():
        began = time.perf_counter()
        with np.errstate(**_COUNTED_NOT_WARNED):
            results[name] = as_result(module.stacked_step(
                *group, arch.loss, arch.learning_rate, arch.rule, arch.mode, report.dtype,
                **optimizer))
        report.seconds_by_backend[name] += time.perf_counter() - began
    blew_up = diverged(results["numpy"])
    return compare_group(arch, group, results, report.dtype, ~blew_up), int(blew_up.sum())


def _check_padded(modules: dict, report: SweepReport, drawn, stack, running):
    """(Comparison, diverged count) of the ``drawn`` groups of one mode: the NumPy reference
    computes them one group at a time, as ever, while the frameworks' ``running`` futures
    compute them as one padded ``stack`` (``reference/padded.py``); then the frameworks'
    numbers against the reference's, real number by real number, and their padding against
    zero."""
    results, scales = _reference(modules["numpy"], report, drawn)
    kept = ~np.concatenate([diverged(result) for result in results])
    inputs = np.concatenate([np.full(len(group[1]), arch.widths[0]) for _, arch, group in drawn])
    entries = padded_module.real_entries(stack, inputs, kept)
    depth = stack.weights.shape[1]
    comparison = Comparison(
        "numpy", padded_module.real_results(results, depth, kept), quantities=STACKED,
        dtype=report.dtype, steps=1, scales=padded_module.real_results(scales, depth, kept),
        stacked=True, entries=entries)
    # Each framework compared as soon as it is done, in the order of ``running``.
    for name, future in running.items():
        result = as_result(_counted(report, name, *future.result()))
        real = padded_module.real_values(result, entries)
        comparison.add(name, real)
        for place, where, values in padded_module.padding(result, real, entries, kept):
            comparison.add_array(name, place, np.zeros_like(values), values,
                                 tolerance(report.dtype, BY_KEY[place.quantity], 1),
                                 np.zeros_like(values), where)
    if comparison.worst is not None and comparison.worst.network is not None:
        comparison.worst = dataclasses.replace(comparison.worst, place=padded_module.own_place(
            comparison.worst.place, stack, comparison.worst.network))
    return comparison, int(np.count_nonzero(~kept))


def _reference(numpy, report: SweepReport, drawn):
    """The NumPy reference's stacked Result of every group, and their magnitudes."""
    began = time.perf_counter()
    with np.errstate(**_COUNTED_NOT_WARNED):
        results = [as_result(numpy.stacked_step(*group, arch.loss, arch.learning_rate,
                                                arch.rule, arch.mode, report.dtype))
                   for _, arch, group in drawn]
    report.seconds_by_backend["numpy"] += time.perf_counter() - began
    with np.errstate(all="ignore"):
        scales = [magnitudes(*group, arch.loss, arch.rule, arch.learning_rate, result)
                  for (_, arch, group), result in zip(drawn, results)]
    return results, scales


def _timed(function, *args):
    """(function(*args), the seconds it took)."""
    began = time.perf_counter()
    return function(*args), time.perf_counter() - began


def _counted(report: SweepReport, name: str, value, seconds: float):
    report.seconds_by_backend[name] += seconds
    return value


def merge(reports: list[SweepReport], seconds: float) -> SweepReport:
    """One report of the shards' reports of one sweep, ``seconds`` of wall time in all."""
    first = reports[0]
    merged = dataclasses.replace(
        first, networks=sum(r.networks for r in reports), seconds=seconds,
        setup_seconds=max(r.setup_seconds for r in reports),
        seconds_by_backend={name: sum(r.seconds_by_backend[name] for r in reports)
                            for name in first.seconds_by_backend},
        max_abs_diff=max(r.max_abs_diff for r in reports),
        disagreements=sum(r.disagreements for r in reports),
        diverged=sum(r.diverged for r in reports), worst=None, worst_architecture=-1,
        worst_file=None, shard=(1, 1))
    pairs = sorted((i, a) for r in reports for i, a in zip(r.indices, r.architectures))
    merged.indices, merged.architectures = [i for i, _ in pairs], [a for _, a in pairs]
    judged = [r for r in reports if r.worst is not None]
    if judged:
        worst = max(judged, key=lambda r: r.worst.excess)
        merged.worst, merged.worst_architecture = worst.worst, worst.worst_architecture
    return merged


def accepted_by(modules: dict):
    """Whether every module computes an optimizer (its ``refuse_optimizer`` says None)."""
    return lambda spec: all(module.refuse_optimizer(spec) is None for module in modules.values())


def compare_group(arch: Architecture, group, results: dict, dtype: str = "float64",
                  keep=None) -> Comparison:
    """Every backend's stacked Results against NumPy's, each network on its own scales, for
    the networks ``keep`` selects (all by default; the worst's ``network`` numbers the whole
    group)."""
    stack, X, T = group
    keep = np.ones(len(X), dtype=bool) if keep is None else keep
    with np.errstate(all="ignore"):
        scales = magnitudes(stack, X, T, arch.loss, arch.rule, arch.learning_rate,
                            results["numpy"])
        if arch.optimizer is not None:
            scales = after_optimizer(stack, X, T, arch.loss, scales, results["numpy"])
    return _compare_kept(results, scales, dtype, np.flatnonzero(keep))


def _compare_kept(results: dict, scales: Result, dtype: str, kept) -> Comparison:
    """Every backend's stacked Result against NumPy's on ``scales``, for the networks ``kept``
    (row numbers); the worst's ``network`` is its row among all of them."""
    comparison = Comparison("numpy", _select(results["numpy"], kept), quantities=STACKED,
                            dtype=dtype, steps=1, scales=_select(scales, kept), stacked=True)
    for name, result in results.items():
        if name != "numpy":
            comparison.add(name, _select(result, kept))
    if comparison.worst is not None and comparison.worst.network is not None:
        comparison.worst = dataclasses.replace(comparison.worst,
                                               network=int(kept[comparison.worst.network]))
    return comparison


def _select(result: Result, kept) -> Result:
    """The networks ``kept`` of a stacked Result."""
    if len(kept) == len(np.atleast_1d(result.loss_before)):
        return result

    def take(array):
        return None if array is None else np.asarray(array)[kept]

    def params(items):
        return tuple(Parameters(take(p.weights), take(p.bias)) for p in items)

    return Result(take(result.loss_before), params(result.gradients),
                  tuple(take(e) for e in result.errors), params(result.params_after),
                  take(result.losses))


def network(group, k: int):
    """Network ``k`` of a group, with its data: (Network, X, T)."""
    stack, X, T = group
    return (tuple(Layer(layer.weights[k], None if layer.bias is None else layer.bias[k],
                        layer.activation, layer.train_bias) for layer in stack), X[k], T[k])


def to_toml(arch: Architecture, group, k: int, report: SweepReport) -> str:
    """Network ``k`` of ``group`` as an example file that ``crosscheck check`` runs."""
    net, X, T = network(group, k)
    worst = report.worst
    shard = "" if report.shard == (1, 1) else f" --shard {report.shard[0]}/{report.shard[1]}"
    source = (f"crosscheck sweep --count {report.count} --seed {report.seed} --dtype "
              f"{report.dtype}{shard}: network {k} of architecture {report.worst_architecture} "
              f"({arch.describe()}).\nLargest difference: {worst}.")
    return writer.to_toml(
        net, X, T, name=f"sweep-seed{report.seed}-worst", loss=arch.loss,
        learning_rate=arch.learning_rate, mode=arch.mode, rule=arch.rule, source=source,
        optimizer=arch.optimizer,
        title=f"crosscheck sweep --seed {report.seed}: the network with the largest difference")


def check_command(report: SweepReport) -> str:
    """The command that runs the worst network again, on the sweep's backends and dtype."""
    dtype = "" if report.dtype == "float64" else f" --dtype {report.dtype}"
    return (f"crosscheck check {report.worst_file} --backends {','.join(report.backends)}"
            f"{dtype}")


__all__ = ["Architecture", "accepted_by", "apart_by_default", "as_result", "check_command",
           "compare_group", "diverged", "draw_architecture", "draw_group", "draw_optimizer",
           "groups", "merge", "one_torch_thread", "plan", "sweep", "to_toml", "write_worst"]
