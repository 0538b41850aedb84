"""Check a user's own backprop against the reference, and name the mistake when it is wrong.

``verify(function, example)`` calls the function on the example's own numbers and on
``random`` probes of the same architecture (random weights, biases and data, seeded), compares
every number with the reference by the one comparison of ``crosscheck/compare``, and, where they
differ, runs every variant of the catalogue of mistakes (``mistakes.py``) on the same probes:
the variants whose numbers are the user's (within 1e-9) are the diagnosis. The example fixes
what the function is written for: architecture, activations, loss, learning rate and mode; a
bias the example holds fixed is trained here, since a function is not told which are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import reference
from crosscheck.compare.comparison import Comparison, Disagreement
from crosscheck.compare.magnitudes import magnitudes
from crosscheck.compare.quantities import BY_KEY, Parameters, Result
from crosscheck.examples import Example
from crosscheck.runs import mistakes, user_code

MATCH = 1e-9      # a variant is the user's mistake when every number is within this of it


@dataclass(frozen=True)
class Probe:
    """One network with its data, on which the function is called."""

    label: str                       # "the example's own numbers", "random probe 3"
    net: tuple
    X: np.ndarray
    T: np.ndarray
    loss: str
    learning_rate: float
    mode: str

    @property
    def samples(self) -> int:
        return len(self.X)


@dataclass(frozen=True)
class Diagnosis:
    mistake: str
    layer: int | None
    explanation: str
    fix: str


@dataclass(frozen=True)
class Mismatch:
    probe: str
    disagreement: Disagreement
    label: str                       # the number as the example names it: "∂E/∂w5"


@dataclass(repr=False)
class VerifyReport:
    function: str
    example: Example
    step: bool
    layout: str
    probes: int
    mismatches: list[Mismatch] = field(default_factory=list)
    layers_ok: list[bool] = field(default_factory=list)
    diagnosis: list[Diagnosis] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __str__(self) -> str:
        from crosscheck.report import verify as text

        return text.render(self)

    def __repr__(self) -> str:
        verdict = "OK" if self.ok else "FAIL" + "".join(
            f", {d.mistake}" + ("" if d.layer is None else f" in layer {d.layer}")
            for d in self.diagnosis[:1])
        return f"<VerifyReport {self.function} on {self.example.name}: {verdict}>"

    def _repr_html_(self) -> str:
        from crosscheck.report import verify as text

        return text.html(self)


def probes(example: Example, count: int, seed: int) -> list[Probe]:
    """The example's own numbers, then ``count`` random networks of its architecture."""
    net = tuple(layer._replace(train_bias=True) for layer in example.layers)
    found = [Probe("the example's own numbers", net, example.inputs, example.targets,
                   example.loss, example.learning_rate, example.mode)]
    rng = np.random.default_rng(seed)
    for k in range(count):
        layers = tuple(layer._replace(
            weights=rng.normal(0.0, 1.0 / np.sqrt(layer.weights.shape[1]), layer.weights.shape),
            bias=None if layer.bias is None else rng.normal(0.0, 0.5, layer.bias.shape))
            for layer in net)
        X = rng.normal(0.0, 1.0, example.inputs.shape)
        T = rng.uniform(0.0, 1.0, example.targets.shape)
        if example.loss.startswith("cross_entropy"):      # rows of class probabilities
            T /= T.sum(axis=-1, keepdims=True)
        found.append(Probe(f"random probe {k + 1}", layers, X, T, example.loss,
                           example.learning_rate, example.mode))
    return found


def _truth(probe: Probe, step: bool):
    """The reference's answer, and the magnitudes that scale its numbers."""
    grads = reference.gradients(probe.net, probe.X, probe.T, probe.loss)
    after = reference.step(probe.net, probe.X, probe.T, probe.loss, probe.learning_rate,
                           mode=probe.mode)
    result = Result(reference.loss(probe.net, probe.X, probe.T, probe.loss),
                    tuple(Parameters(w, b) for w, b in zip(grads.weights, grads.biases)),
                    tuple(grads.errors), tuple(Parameters(a.weights, a.bias) for a in after),
                    np.zeros(1))
    scales = magnitudes(probe.net, probe.X, probe.T, probe.loss, "exact", probe.learning_rate,
                        result)
    quantity = BY_KEY["params_after" if step else "gradients"]
    return quantity, quantity.value(result, 0.0), quantity.value(scales, 0.0)


def _as_parameters(answer):
    weights, biases = answer
    return tuple(Parameters(w, b) for w, b in zip(weights, biases))


def _compare(probe_label, quantity, truth, scales, yours, example: Example, report) -> None:
    """Every array of the user's answer against the truth; mismatches and layers kept."""
    leaves = zip(quantity.leaves(truth), quantity.leaves(yours), quantity.leaves(scales))
    for (place, want), (_, got), (_, scale) in leaves:
        comparison = Comparison("reference", dtype="float64")
        tol = 256 * float(np.finfo(np.float64).eps)
        same_shape = want is None or got is None or np.shape(want) == np.shape(got)
        comparison.add_array("yours", place, want, got, tol, scale if same_shape else None)
        if not comparison.agree:
            found = comparison.worst
            report.layers_ok[place.layer] = False
            label = example.names.label(found.place) if not found.problem else str(place)
            report.mismatches.append(Mismatch(probe_label, found, label))


def verify(function, example: Example, random: int = 20, seed: int = 0,
           layout: str = "outputs-inputs", step: bool | None = None) -> VerifyReport:
    """Check ``function`` (a ``user_code.UserFunction`` or any callable) on the example; see the
    module docstring. A user's exception is raised as ``user_code.UserCodeFailed``."""
    if layout not in user_code.LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of "
                         f"{', '.join(user_code.LAYOUTS)}")
    user = function if isinstance(function, user_code.UserFunction) else \
        user_code.of(function, step=step)
    found = probes(example, random, seed)
    report = VerifyReport(user.label, example, user.step, layout, len(found),
                          layers_ok=[True] * len(example.layers))
    answers = []
    for probe in found:
        quantity, truth, scales = _truth(probe, user.step)
        yours = _as_parameters(user_code.call(user, probe.net, probe.X, probe.T,
                                              probe.learning_rate, layout))
        answers.append((probe, quantity, truth, yours))
        _compare(probe.label, quantity, truth, scales, yours, example, report)
    if not report.ok:
        report.diagnosis = diagnose(answers, user.step)
    return report


# --- the diagnosis --------------------------------------------------------------------------------
def _variant(probe: Probe, step: bool, mistake: str, layer: int | None):
    if step:
        answer = mistakes.step(probe.net, probe.X, probe.T, probe.loss, probe.learning_rate,
                               probe.mode, mistake, layer)
    else:
        answer = mistakes.gradients(probe.net, probe.X, probe.T, probe.loss, mistake, layer,
                                    probe.learning_rate)
    return _as_parameters(answer)


def _same(quantity, a, b) -> bool:
    """Every array of two answers within MATCH of each other (relative to its largest)."""
    for (place, x), (_, y) in zip(quantity.leaves(a), quantity.leaves(b)):
        comparison = Comparison("variant")
        comparison.add_array("yours", place, x, y, MATCH)
        if not comparison.agree:
            return False
    return True


def _candidates(probe: Probe, step: bool):
    """Every variant that can be told on this problem, step mistakes first for a step."""
    kinds = (True, False) if step else (False,)
    for step_only in kinds:
        for mistake in mistakes.CATALOGUE:
            if mistake.step_only == step_only and mistake.applies(probe):
                yield from mistake.variants(len(probe.net))


def diagnose(answers, step: bool) -> list[Diagnosis]:
    """The variants whose numbers are the user's on every probe, each mistake once, in one
    layer where that is all it takes."""
    matched = []
    for mistake, layer in _candidates(answers[0][0], step):
        if any(m is mistake and other is not None for m, other in matched):
            continue                         # already found in one layer: more precise
        hits, differs = True, False
        for probe, quantity, truth, yours in answers:
            try:
                variant = _variant(probe, step, mistake.id, layer)
            except mistakes.NotApplicable:
                hits = False
                break
            differs = differs or not _same(quantity, variant, truth)
            if not _same(quantity, yours, variant):
                hits = False
                break
        if hits and differs:
            matched = [(m, other) for m, other in matched if m is not mistake]
            matched.append((mistake, layer))
    return [Diagnosis(m.id, layer, m.explained(layer), m.fix) for m, layer in matched]
