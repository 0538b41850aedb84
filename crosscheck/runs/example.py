"""One example on several backends: compute, compare with the reference backend, check figures.

``run(example, backends)`` returns a ``Report``: every backend's ``Result``, the comparison of
every backend with the reference backend (the first one listed that ran: numpy by default), the
published-figure checks and the verdict. A backend that declares it does not support the run's
rule, mode, dtype or loss (``SUPPORTS``) is skipped, and one that raises is reported with the
exception, not a traceback; neither stops the other backends or the other examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import reference
from crosscheck import backends, examples
from crosscheck.compare import published
from crosscheck.compare.comparison import Comparison
from crosscheck.compare.magnitudes import after_optimizer, magnitudes
from crosscheck.compare.quantities import REPORTED, Parameters, Result
from crosscheck.examples import Example, Figure
from reference.optimizers import Optimizer
from reference.types import RuleUndefined


@dataclass(frozen=True)
class Settings:
    """What a run computes: the example's own settings unless overridden."""

    rule: str
    dtype: str
    steps: int
    mode: str
    learning_rate: float
    optimizer: Optimizer | None = None      # the example's [optimizer]; None: plain descent

    @classmethod
    def of(cls, example: Example, rule=None, dtype="float64", steps=None, mode=None, lr=None):
        def given(value, default):
            return default if value is None else value

        return cls(given(rule, example.rule), dtype, given(steps, example.steps),
                   given(mode, example.mode), given(lr, example.learning_rate),
                   example.optimizer)

    def changed(self, example: Example) -> set[str]:
        """The training settings that differ from the example's own."""
        return {key for key in ("rule", "steps", "mode", "learning_rate")
                if getattr(self, key) != getattr(example, key)}


@dataclass
class Check:
    figure: Figure
    computed: float             # the reference backend's value
    holds: dict[str, bool]      # per backend: does the value round to the printed figure?

    @property
    def ok(self) -> bool:
        return all(held != self.figure.erratum for held in self.holds.values())


@dataclass
class Report:
    example: Example
    settings: Settings
    results: dict[str, Result]
    versions: dict[str, str]
    comparison: Comparison
    checks: list[Check] = field(default_factory=list)
    skipped: list[Figure] = field(default_factory=list)        # figures of other settings
    unsupported: dict[str, str] = field(default_factory=dict)  # backend -> what it lacks
    failed: dict[str, str] = field(default_factory=dict)       # backend -> what it raised
    hint: str = ""                                             # why figures may fail

    @property
    def reference(self) -> str:
        return self.comparison.reference

    @property
    def agree(self) -> bool:
        return self.comparison.agree

    @property
    def ok(self) -> bool:
        return (bool(self.results) and self.agree and not self.failed
                and all(check.ok for check in self.checks))

    def printed_for(self, figure: Figure) -> str:
        """The example's own settings a figure not checked by this run was printed for:
        "rule exact, 1 step(s)"."""
        example = self.example
        own = {"rule": f"rule {example.rule}", "steps": f"{example.steps} step(s)",
               "mode": f"mode {example.mode}",
               "learning_rate": f"learning rate {example.learning_rate:g}"}
        changed = figure.quantity.depends & self.settings.changed(example)
        return ", ".join(own[key] for key in ("rule", "steps", "mode", "learning_rate")
                         if key in changed)


class Diverged(ArithmeticError):
    """The loss of a training run became NaN or infinite."""

    def __init__(self, backend: str, step: int, value: float):
        self.backend, self.step, self.value = backend, step, value
        super().__init__(f"training diverged on {backend}: the loss is {value} after step {step}")


CHUNKS = 20


def train(backend, example: Example, settings: Settings, name: str = "", progress=None):
    """The example's training run on one backend, in up to CHUNKS calls of ``backend.train``.

    Gradient descent without momentum carries no state but the network, so a run in pieces is
    the same run; the pieces let a progress bar move, and a loss that becomes NaN or infinite
    stop the run with ``Diverged`` naming the step. ``progress(name, done, steps)`` is called
    after every piece. An optimizer's state (momenta, moments, step count) lives inside one call
    of ``train``, so a run with an optimizer is one piece.
    """
    net, X, T = example.layers, example.inputs, example.targets
    name = name or backend.NAME
    chunk = settings.steps if settings.optimizer else max(1, -(-settings.steps // CHUNKS))
    extra = {"optimizer": settings.optimizer} if settings.optimizer else {}
    pieces, done = [], 0
    if progress:
        progress(name, 0, settings.steps)
    while done < settings.steps:
        n = min(chunk, settings.steps - done)
        net, losses = backend.train(net, X, T, example.loss, settings.learning_rate,
                                    settings.rule, settings.mode, n, settings.dtype, **extra)
        losses = np.asarray(losses)
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            raise Diverged(name, done + int(bad[0]) + 1, float(losses[bad[0]]))
        pieces.append(losses)
        done += n
        if progress:
            progress(name, done, settings.steps)
    return net, np.concatenate(pieces)


def compute(backend, example: Example, settings: Settings, name: str = "",
            progress=None) -> Result:
    """Everything one backend reports for an example: before, first-step and after-steps values."""
    net, X, T, dtype = example.layers, example.inputs, example.targets, settings.dtype
    grads = backend.gradients(net, X, T, example.loss, settings.rule, dtype,
                              lr=settings.learning_rate)
    final, losses = train(backend, example, settings, name, progress)
    # The tutorials' intermediates, where the backend computes them (optional in the contract).
    extra = (None, None, None)
    if callable(getattr(backend, "intermediates", None)):
        extra = backend.intermediates(net, X, T, example.loss, settings.rule, dtype,
                                      lr=settings.learning_rate)
    return Result(
        loss_before=backend.loss(net, X, T, example.loss, dtype),
        gradients=tuple(Parameters(w, b) for w, b in zip(grads.weights, grads.biases)),
        errors=tuple(grads.errors),
        params_after=tuple(Parameters(layer.weights, layer.bias) for layer in final),
        losses=np.asarray(losses),
        activations_before=tuple(backend.forward(net, X, dtype)),
        activations_after=tuple(backend.forward(final, X, dtype)),
        pre_activations_before=extra[0], deltas=extra[1], loss_terms_before=extra[2],
    )


def refusal(backend, example: Example, settings: Settings) -> str | None:
    """What the backend declares it cannot compute of this run, or None."""
    lacks = backends.supports(backend).refusal(settings.rule, settings.mode, settings.dtype,
                                               example.loss)
    if lacks or settings.optimizer is None:
        return lacks
    refuse = getattr(backend, "refuse_optimizer", None)
    return "optimizers" if refuse is None else refuse(settings.optimizer)


def _computed(example, backends, settings, progress):
    """(results, unsupported, failed) over the backends, in their order."""
    results, unsupported, failed = {}, {}, {}
    for name, backend in backends.items():
        lacks = refusal(backend, example, settings)
        if lacks:
            unsupported[name] = f"not supported by {name}: {lacks}"
            continue
        try:
            results[name] = compute(backend, example, settings, name, progress)
        except (RuleUndefined, Diverged):
            raise
        except Exception as exc:     # a backend's own failure: reported, the run goes on
            failed[name] = describe_failure(exc)
    return results, unsupported, failed


def describe_failure(exc: BaseException) -> str:
    """``AssertionError: message (file.py:12)``: the exception and where it was raised."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = "" if frame is None else \
        f" ({frame.tb_frame.f_code.co_filename}:{frame.tb_lineno})"
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"


def run(example: Example, backends: dict, progress=None, **overrides) -> Report:
    """Compute the example on every backend (name -> module), compare, and check its figures."""
    settings = Settings.of(example, **overrides)
    results, unsupported, failed = _computed(example, backends, settings, progress)
    versions = {name: backends[name].version() for name in results}
    reference = next(iter(results), next(iter(backends)))
    scales = None if not results else magnitudes(
        example.layers, example.inputs, example.targets, example.loss, settings.rule,
        settings.learning_rate, results[reference])
    if scales is not None and settings.optimizer is not None:
        scales = after_optimizer(example.layers, example.inputs, example.targets,
                                 example.loss, scales, results[reference])
    comparison = Comparison(reference, results.get(reference), quantities=REPORTED,
                            dtype=settings.dtype, steps=settings.steps, scales=scales)
    for name, result in results.items():
        if name != reference:
            comparison.add(name, result)
    changed = settings.changed(example)
    kept = [f for f in example.figures if not f.quantity.depends & changed]
    checks = [check(figure, results, reference, settings.learning_rate) for figure in kept
              if results]
    skipped = [f for f in example.figures if f not in kept]
    return Report(example, settings, results, versions, comparison, checks, skipped,
                  unsupported, failed, transposed_hint(example, settings, checks))


def transposed_hint(example: Example, settings: Settings, checks: list[Check]) -> str:
    """When published figures fail, and every figure holds once the file's weights are read as
    (inputs, outputs) — a square matrix written as seed 002 writes x·W loads either way — the
    words that say so; otherwise "". The second reading is run on the reference alone."""
    if example.layout == examples.LAYOUTS[1] or all(c.ok for c in checks):
        return ""
    try:
        flipped = examples.load(example.path, layout=examples.LAYOUTS[1])
        again = run(flipped, {"numpy": reference}, rule=settings.rule, steps=settings.steps,
                    mode=settings.mode, lr=settings.learning_rate)
    except (examples.ExampleError, OSError, RuleUndefined, Diverged):
        return ""
    if len(again.checks) != len(checks) or not all(c.ok for c in again.checks):
        return ""
    return ("every published figure holds when the weights are read as (inputs, outputs), as "
            "seed 002 writes x·W: add layout = \"inputs-outputs\" to the file, or write row j "
            "as the weights into neuron j")


def check(figure: Figure, results: dict[str, Result], reference: str, lr: float) -> Check:
    """One published figure against every backend's value (of those that compute it: an
    optional quantity may be missing from some)."""
    values = {name: figure.quantity.number(result, lr, figure.place)
              for name, result in results.items()
              if figure.quantity.value(result, lr) is not None}
    return Check(figure, values[reference],
                 {name: published.rounds_to(value, figure.printed)
                  for name, value in values.items()})

