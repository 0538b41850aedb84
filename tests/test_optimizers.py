"""The frameworks' optimizers: torch.optim and optax against the NumPy reference of the same
convention, the reference against closed forms of its first steps, and the refusals.

Cross-tests (float64): every optimizer × convention × backend that can compute it, one step in
batch and online mode on every shipped example's network, judged like ``crosscheck run`` judges
a first step (256 ε of each number's scale |W| + |W_after − W|: an optimizer's step is no longer
η·g, and rounding enters through the step's own terms); then 100 steps in both modes on XOR's
and seed 000's networks, within 1e-9 of each array's largest value, the policy for longer runs.
Centered RMSprop is checked over one step only: it divides by √(v − ḡ²), which cancels as the
gradient settles, and after 100 batch steps two correct computations differ by 1e-3.

Each variant turns several settings on at once (momentum with Nesterov and weight decay, …), so
that a mapping gone wrong in any of them changes the numbers; the closed forms below pin the
reference itself to the documented formulas where one or two steps can be written by hand.
"""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest

import reference
from crosscheck import examples
from crosscheck.cli import main
from crosscheck.compare.quantities import AFTER_STEPS, FIRST_STEP
from crosscheck.compare.tolerances import TOLERANCE
from reference import Optimizer
from tests.helpers import assert_close, load_backend, parameters

NETWORKS = ["seed000", "seed001-exact", "seed002-linear", "seed002-relu", "xor"]
LONG = ["xor", "seed000"]
STEPS = 100


def _variants(convention):
    """The settings each test turns on, per optimizer: every hyperparameter in at least one."""
    sgd = [dict(momentum=0.9, nesterov=True, weight_decay=0.1), dict(momentum=0.5)]
    if convention == "torch":
        sgd.append(dict(momentum=0.9, dampening=0.5))
    adam = [dict(weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6), dict(amsgrad=True)]
    rmsprop = [dict(momentum=0.9, weight_decay=0.1, eps=1e-4), dict(centered=True, alpha=0.9)]
    if convention == "optax":
        rmsprop.append(dict(eps_in_sqrt=False, eps=1e-6))
    return [("sgd", v) for v in sgd] + [(n, v) for n in ("adam", "adamw") for v in adam] + \
        [("rmsprop", v) for v in rmsprop]


SPECS = [Optimizer(name, convention, **settings) for convention in reference.optimizers.CONVENTIONS
         for name, settings in _variants(convention)]
# The learning rate each optimizer is used with here: Adam's and RMSprop's steps are about η.
RATE = {"sgd": 0.5, "adam": 0.02, "adamw": 0.02, "rmsprop": 0.01}


@functools.cache
def example(name):
    return examples.load(examples.find(name))


def _train(module, spec, name, mode, steps):
    ex = example(name)
    return module.train(ex.layers, ex.inputs, ex.targets, ex.loss, RATE[spec.name], "exact",
                        mode, steps, optimizer=spec)


def _backend_for(spec, backend_name):
    backend = load_backend(backend_name)
    lacks = backend.refuse_optimizer(spec)
    if lacks:
        pytest.skip(f"{backend_name}: {lacks}")
    return backend


def assert_trained_alike(got, want, start, *, steps, backend, against):
    """The parameters and the losses of two training runs, by the tolerance of ``steps`` steps;
    one step is judged against |W| + |W_after − W|, number by number."""
    (net, losses), (net_want, losses_want) = got, want
    phase = FIRST_STEP if steps == 1 else AFTER_STEPS
    rtol = TOLERANCE["float64", phase]
    for (k, part, value), (_, _, expected), (_, _, before) in zip(
            parameters(net), parameters(net_want), parameters(start)):
        scale = np.abs(before) + np.abs(expected - before) if steps == 1 else None
        assert_close(value, expected, rtol=rtol, backend=backend, against=against, layer=k,
                     param=part, quantity="params_after", scale=scale)
    assert_close(losses, losses_want, rtol=rtol, backend=backend, against=against,
                 quantity="losses", scale=np.abs(losses_want))


def _ids(specs):
    return [f"{s.name}-{s.convention}-{'-'.join(f'{k}' for k in s.settings()) or 'defaults'}"
            for s in specs]


def assert_matches_reference(spec, backend_name, networks, steps):
    """The backend's run of ``spec`` against the reference's, on each network in both modes."""
    backend = _backend_for(spec, backend_name)
    for name in networks:
        for mode in reference.MODES:
            assert_trained_alike(_train(backend, spec, name, mode, steps),
                                 _train(reference, spec, name, mode, steps),
                                 example(name).layers, steps=steps,
                                 backend=f"{backend_name} {spec} {name} {mode}", against="numpy")


REFUSED = [
    ("convention", dict(name="sgd", convention="pytorch"), "unknown convention 'pytorch'"),
    ("one-beta", dict(name="adam", betas=(0.9,)), "betas must be two numbers"),
    ("beta1-negative", dict(name="adam", betas=(-0.1, 0.999)), "betas must be a finite number"),
    ("beta2-nan", dict(name="adam", betas=(0.9, float("nan"))), "betas must be a finite number"),
    ("eps-negative", dict(name="adam", eps=-1e-8), "eps must be a finite number >= 0"),
    ("beta1-one", dict(name="adam", betas=(1.0, 0.999)), "must be below 1"),
    ("beta2-one", dict(name="adam", betas=(0.9, 1.0)), "must be below 1"),
    ("alpha-one", dict(name="rmsprop", alpha=1.0), "must be below 1"),
    ("momentum-one", dict(name="sgd", momentum=1.0), "must be below 1"),
    ("dampening-past-one", dict(name="sgd", momentum=0.5, dampening=1.0 + 2**-52),
     "dampening at most 1"),
    ("foreign-setting", dict(name="sgd", alpha=0.5), "sgd takes no alpha"),
    ("nesterov-without-momentum", dict(name="sgd", nesterov=True), "nesterov needs sgd"),
    ("nesterov-with-dampening", dict(name="sgd", momentum=0.9, dampening=0.1, nesterov=True),
     "nesterov needs sgd"),
    ("nesterov-on-rmsprop", dict(name="rmsprop", momentum=0.9, nesterov=True),
     "rmsprop takes no nesterov"),
    ("dampening-in-keras", dict(name="sgd", convention="keras", momentum=0.5, dampening=0.1),
     "dampening is torch's alone"),
    ("eps-outside-in-torch", dict(name="rmsprop", convention="torch", eps_in_sqrt=False),
     "eps_in_sqrt = false is optax's rmsprop option alone"),
    ("eps-outside-in-adam", dict(name="adam", convention="optax", eps_in_sqrt=False),
     "adam takes no eps_in_sqrt"),
]
# At the edges the contract allows: every one of these is accepted.
ACCEPTED = [
    dict(name="sgd", momentum=1 - 2**-53, dampening=1.0), dict(name="sgd", momentum=0.9,
                                                               nesterov=True),
    dict(name="adam", betas=(0.0, 1 - 2**-53), eps=0.0), dict(name="rmsprop", alpha=0.0),
    dict(name="rmsprop", convention="optax", eps_in_sqrt=False),
    dict(name="sgd", convention="keras", momentum=0.5),
]


@pytest.mark.parametrize(("settings", "message"), [(s, m) for _, s, m in REFUSED],
                         ids=[i for i, _, _ in REFUSED])
def test_an_optimizer_the_frameworks_do_not_define_is_refused_with_the_reason(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        reference.optimizers.check(Optimizer(**settings))


@pytest.mark.parametrize("settings", ACCEPTED, ids=str)
def test_an_optimizer_at_the_edges_of_its_settings_is_accepted(settings):
    spec = Optimizer(**settings)
    assert reference.optimizers.check(spec) is spec


@pytest.mark.parametrize(("name", "framework_class"), [
    ("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW"), ("rmsprop", "RMSprop")])
def test_the_defaults_are_torch_optims_own(name, framework_class):
    """``Optimizer(name)`` means torch.optim's optimizer with nothing set: every setting it
    takes defaults to what the torch.optim class's signature says (and ``eps_in_sqrt`` to
    optax.rmsprop's)."""
    import inspect

    torch, optax = pytest.importorskip("torch"), pytest.importorskip("optax")
    signature = inspect.signature(getattr(torch.optim, framework_class)).parameters
    spec = Optimizer(name)
    for setting in reference.optimizers.HYPERPARAMETERS[name]:
        default = (inspect.signature(optax.rmsprop).parameters[setting].default
                   if setting == "eps_in_sqrt" else signature[setting].default)
        ours = getattr(spec, setting)
        assert ours == default, f"{name}.{setting}: {ours!r}, in the framework: {default!r}"


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("spec", SPECS, ids=_ids(SPECS))
def test_one_step_matches_the_reference_of_its_convention(spec, backend_name):
    assert_matches_reference(spec, backend_name, NETWORKS, 1)


LONG_SPECS = [s for s in SPECS if not s.centered]


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("spec", LONG_SPECS, ids=_ids(LONG_SPECS))
def test_100_steps_match_the_reference_of_its_convention(spec, backend_name):
    assert_matches_reference(spec, backend_name, LONG, STEPS)


# --- closed forms: the reference's first steps by hand, from the plain gradient g ------------
ETA, LAMBDA, MU, EPS = 0.02, 0.1, 0.9, 1e-6
B1, B2, ALPHA = 0.9, 0.999, 0.99

# (optimizer, the parameter after one batch step from p with gradient g), each from its
# framework's documentation: Adam's bias-corrected first step is η g/(|g| + ε); Keras's ε meets
# √v before the correction, so its first step divides by |g| + ε/√(1 − β2); RMSprop's v is
# (1 − α)g², with ε outside the root for torch and inside for optax and Keras; Nesterov's first
# step is (1 + μ)g; decoupled decay multiplies p by 1 − ηλ.
FIRST_STEPS = [
    (Optimizer("sgd", c, momentum=MU, nesterov=True), lambda p, g: p - ETA * (1 + MU) * g)
    for c in ("torch", "optax", "keras")] + [
    (Optimizer("sgd", "torch", momentum=MU, dampening=0.5, weight_decay=LAMBDA),
     lambda p, g: p - ETA * (g + LAMBDA * p)),
    (Optimizer("sgd", "keras", momentum=MU, weight_decay=LAMBDA),
     lambda p, g: p * (1 - ETA * LAMBDA) - ETA * g),
    *[(Optimizer("adam", c, eps=EPS, weight_decay=LAMBDA),
       lambda p, g: p - ETA * (g + LAMBDA * p) / (np.abs(g + LAMBDA * p) + EPS))
      for c in ("torch", "optax")],
    *[(Optimizer(n, c, eps=EPS, weight_decay=LAMBDA),
       lambda p, g: p * (1 - ETA * LAMBDA) - ETA * g / (np.abs(g) + EPS))
      for n, c in (("adamw", "torch"), ("adamw", "optax"))],
    *[(Optimizer(n, "keras", eps=EPS, weight_decay=LAMBDA),
       lambda p, g: p * (1 - ETA * LAMBDA) - ETA * g / (np.abs(g) + EPS / np.sqrt(1 - B2)))
      for n in ("adam", "adamw")],
    # AMSGrad's maximum of v, from v_max = 0, is v itself on the first step.
    (Optimizer("adam", "keras", eps=EPS, amsgrad=True),
     lambda p, g: p - ETA * g / (np.abs(g) + EPS / np.sqrt(1 - B2))),
    (Optimizer("rmsprop", "torch", eps=EPS, weight_decay=LAMBDA),
     lambda p, g: p - ETA * (g + LAMBDA * p) / (np.sqrt(1 - ALPHA) * np.abs(g + LAMBDA * p)
                                                + EPS)),
    (Optimizer("rmsprop", "optax", eps=EPS),
     lambda p, g: p - ETA * g / np.sqrt((1 - ALPHA) * g * g + EPS)),
    (Optimizer("rmsprop", "optax", eps=EPS, eps_in_sqrt=False),
     lambda p, g: p - ETA * g / (np.sqrt(1 - ALPHA) * np.abs(g) + EPS)),
    (Optimizer("rmsprop", "keras", eps=EPS, weight_decay=LAMBDA),
     lambda p, g: p * (1 - ETA * LAMBDA) - ETA * g / np.sqrt((1 - ALPHA) * g * g + EPS)),
    (Optimizer("rmsprop", "torch", eps=EPS, centered=True),
     lambda p, g: p - ETA * g / (np.sqrt((1 - ALPHA) * g * g - ((1 - ALPHA) * g) ** 2) + EPS)),
]


def _by_hand(name, step):
    """The network after ``step`` applied to every trainable array with its plain gradient."""
    ex = example(name)
    grads = reference.gradients(ex.layers, ex.inputs, ex.targets, ex.loss, "exact")
    return tuple(reference.Layer(step(layer.weights, gw),
                                 layer.bias if gb is None else step(layer.bias, gb),
                                 layer.activation, layer.train_bias)
                 for layer, gw, gb in zip(ex.layers, grads.weights, grads.biases))


@pytest.mark.parametrize("backend_name", ["numpy", "torch", "jax"])
@pytest.mark.parametrize(("spec", "step"), FIRST_STEPS, ids=_ids([s for s, _ in FIRST_STEPS]))
def test_first_step_is_the_documented_formula(spec, step, backend_name):
    backend = _backend_for(spec, backend_name)
    for name in ("xor", "seed000"):
        ex = example(name)
        got = backend.step(ex.layers, ex.inputs, ex.targets, ex.loss, ETA, optimizer=spec)
        want = _by_hand(name, step)
        for (k, part, value), (_, _, expected), (_, _, before) in zip(
                parameters(got), parameters(want), parameters(ex.layers)):
            assert_close(value, expected, rtol=TOLERANCE["float64", FIRST_STEP],
                         backend=f"{backend_name} {spec} {name}", against="by hand", layer=k,
                         param=part, scale=np.abs(before) + np.abs(expected - before))


def _second_step(spec, name):
    """The reference's second batch step, and g1, g2 and p1 to write it by hand."""
    ex = example(name)
    args = (ex.inputs, ex.targets, ex.loss)
    g1 = reference.gradients(ex.layers, *args, "exact")
    p1 = reference.step(ex.layers, *args, ETA, optimizer=spec)
    g2 = reference.gradients(p1, *args, "exact")
    p2, _ = reference.train(ex.layers, *args, ETA, steps=2, optimizer=spec)
    return g1, g2, p1, p2


@pytest.mark.parametrize("dampening", [0.0, 0.5])
def test_momentum_second_step_by_hand(dampening):
    """torch: b = g1, then b = μ g1 + (1 − τ) g2; p2 = p1 − η b (the dampening τ skips the first
    step); Keras: v2 = μ(−η g1) − η g2, the same without dampening."""
    for spec in [Optimizer("sgd", "torch", momentum=MU, dampening=dampening)] + \
            ([Optimizer("sgd", "keras", momentum=MU)] if not dampening else []):
        g1, g2, p1, p2 = _second_step(spec, "xor")
        for k, layer in enumerate(p2):
            expected = p1[k].weights - ETA * (MU * g1.weights[k] + (1 - dampening) * g2.weights[k])
            assert_close(layer.weights, expected, rtol=TOLERANCE["float64", FIRST_STEP],
                         backend=f"numpy {spec}", against="by hand", layer=k, param="weights",
                         scale=np.abs(p1[k].weights) + np.abs(expected - p1[k].weights))


def test_adam_second_step_by_hand():
    """m̂2 = (β1(1 − β1) g1 + (1 − β1) g2) / (1 − β1²), v̂2 likewise with β2 and g²:
    the bias correction of step 2, which the first step cannot tell from its absence."""
    spec = Optimizer("adam", "torch", eps=EPS)
    g1, g2, p1, p2 = _second_step(spec, "seed000")
    for k, layer in enumerate(p2):
        a, b = g1.weights[k], g2.weights[k]
        m_hat = (B1 * (1 - B1) * a + (1 - B1) * b) / (1 - B1 ** 2)
        v_hat = (B2 * (1 - B2) * a * a + (1 - B2) * b * b) / (1 - B2 ** 2)
        expected = p1[k].weights - ETA * m_hat / (np.sqrt(v_hat) + EPS)
        assert_close(layer.weights, expected, rtol=TOLERANCE["float64", FIRST_STEP],
                     backend=f"numpy {spec}", against="by hand", layer=k, param="weights",
                     scale=np.abs(p1[k].weights) + np.abs(expected - p1[k].weights))


def test_sgd_is_one_algorithm_in_torch_and_keras_form_at_a_constant_rate():
    """v = μv − ηg, p ← p + v (Keras, Sutskever) is b = μb + g, p ← p − ηb (torch) with v = −ηb:
    the reference's two functions agree over 50 online steps, Nesterov too; and torch.optim runs
    the Keras convention on that ground."""
    for nesterov in (False, True):
        runs = [_train(reference, Optimizer("sgd", c, momentum=MU, nesterov=nesterov), "xor",
                       "online", 50) for c in ("torch", "keras", "optax")]
        for other in runs[1:]:
            assert_trained_alike(other, runs[0], example("xor").layers, steps=50,
                                 backend="numpy keras/optax", against="numpy torch")


# --- refusals -----------------------------------------------------------------------------
@pytest.mark.parametrize(("backend_name", "spec", "message"), [
    ("torch", Optimizer("adam", "optax"), "torch.optim does not compute the optax convention"),
    ("torch", Optimizer("sgd", "keras", momentum=MU, weight_decay=LAMBDA),
     "torch.optim does not compute the keras convention of sgd"),
    ("jax", Optimizer("sgd", "torch", momentum=MU, dampening=0.5),
     "optax's trace has no dampening"),
    ("jax", Optimizer("adam", "torch", amsgrad=True), "torch's AMSGrad keeps the maximum of v"),
    ("jax", Optimizer("adamw", "keras", amsgrad=True), "keras's AMSGrad keeps the maximum of v"),
], ids=["torch-optax", "torch-keras-decay", "jax-dampening", "jax-torch-amsgrad",
        "jax-keras-amsgrad"])
def test_a_convention_a_framework_cannot_spell_is_refused_with_the_reason(backend_name, spec,
                                                                         message):
    backend = load_backend(backend_name)
    ex = example("xor")
    with pytest.raises(ValueError, match=f"optimizer .* is not supported here: {message}"):
        backend.train(ex.layers, ex.inputs, ex.targets, ex.loss, 0.1, optimizer=spec)


# --- the command line ----------------------------------------------------------------------
def test_run_reports_the_optimizer_and_every_backend_agrees(capsys):
    code = main(["run", "xor-adam", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"] and set(doc["backends"]) == {"numpy", "torch", "jax"}
    assert doc["optimizer"] == {"name": "adam", "convention": "torch", "momentum": 0.0,
                                "dampening": 0.0, "nesterov": False, "weight_decay": 0.0,
                                "betas": [0.9, 0.999], "eps": 1e-8, "amsgrad": False,
                                "alpha": 0.99, "centered": False, "eps_in_sqrt": True}


def test_a_file_in_a_convention_torch_cannot_spell_skips_torch_with_the_reason(tmp_path,
                                                                               capsys):
    text = examples.find("xor-adam").read_text().replace('convention = "torch"',
                                                         'convention = "optax"')
    path = tmp_path / "xor-adam-optax.toml"
    path.write_text(text.replace('name = "xor-adam"', 'name = "xor-adam-optax"'))
    code = main(["check", str(path), "--json", "--steps", "20"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and set(doc["backends"]) == {"numpy", "jax"}
    assert doc["skipped"] == {"torch": "not supported by torch: torch.optim does not compute "
                                       "the optax convention of adam"}


# --- crosscheck optimizers: the known differences between conventions, found and reconciled --
@pytest.mark.parametrize(("name", "table", "expected"), [
    # RMSprop: ε inside the root for optax and Keras, outside for torch.
    ("xor-rmsprop", None, {("torch", "optax"): {"eps_in_sqrt": False},
                           ("torch", "keras"): {"eps": 1e-30}, ("optax", "keras"): None}),
    # Adam: Keras's ε̂; torch and optax are one algorithm.
    ("xor-adam", None, {("torch", "optax"): None, ("torch", "keras"): {"eps": 1e-30},
                        ("optax", "keras"): {"eps": 1e-30}}),
    # SGD with momentum: L2 weight decay (torch, optax) against Keras's decoupled decay.
    ("seed000-momentum", 'name = "sgd"\nmomentum = 0.9\nweight_decay = 0.01',
     {("torch", "optax"): None, ("torch", "keras"): {"weight_decay": 0.0},
      ("optax", "keras"): {"weight_decay": 0.0}}),
    # optax's AMSGrad keeps the maximum of v̂, torch's of v.
    ("seed000-adam", 'name = "adam"\namsgrad = true',
     {("torch", "optax"): {"amsgrad": False}}),
], ids=["rmsprop", "adam", "sgd-weight-decay", "amsgrad"])
def test_optimizers_command_finds_each_documented_difference(tmp_path, capsys, name, table,
                                                             expected):
    path = examples.find(name)
    if table:
        text = path.read_text()
        start = text.index("[optimizer]")
        path = tmp_path / f"{name}.toml"
        path.write_text(text[:start] + "[optimizer]\n" + table + "\n\n" +
                        text[text.index("[chaotic_steps]" if "[chaotic_steps]" in text
                                        else "[[layers]]", start):])
    code = main(["optimizers", str(path), "--steps", "100", "--json",
                 "--plot", str(tmp_path / "plot.png")])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and (tmp_path / "plot.png").stat().st_size > 0
    pairs = {(p["a"], p["b"]): p for p in doc["pairs"]}
    for pair, settings in expected.items():
        found = pairs[pair]
        if settings is None:
            assert found["apart_from"] is None, f"{pair}: {found['apart_from']}"
            assert max(found["differences"]) <= 1e-12
        else:
            assert found["apart_from"] == 1 and found["reconciled_by"] == settings, \
                f"{pair}: {found['reconciled_by']}"
            assert found["reconciled_difference"] <= 1e-12 and found["why"]


def test_optimizers_command_needs_an_optimizer(capsys):
    assert main(["optimizers", "xor"]) == 2
    assert capsys.readouterr().err.strip() == ("crosscheck optimizers: xor has no [optimizer]: "
                                               "name one with --optimizer")
