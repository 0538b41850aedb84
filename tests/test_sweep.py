"""``crosscheck sweep`` and the stacked engine behind it.

* Each backend's ``stacked_step`` gives every network of a stack what the one-network functions
  (``loss``, ``gradients``, ``step``) give it alone, which the rest of the suite checks against
  finite differences, published figures and the other backends.
* A bug planted in one backend is found by the sweep, and the file it writes reproduces it
  through ``crosscheck check``.
* The command's options, JSON and bad input.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from crosscheck import cli, examples
from crosscheck.compare.tolerances import FIRST_STEP, TOLERANCE
from crosscheck.runs import sweep
from reference.types import ACTIVATIONS, LOSSES, MODES, RULES
from tests.helpers import assert_close, load_backend

# Stacked and one-network runs are the same arithmetic on differently blocked matrix products
# (and, for JAX, differently optimised XLA), so they agree to rounding: the float64 one-step
# cross-backend tolerance.
RTOL = TOLERANCE[("float64", FIRST_STEP)]


def cases():
    """One architecture for every rule and mode, with every activation, loss and bias kind
    appearing among them (seeded draws, re-drawn until each rule/mode pair has one)."""
    rng, found = np.random.default_rng(2024), {}
    while len(found) < len(RULES) * len(MODES):
        arch = sweep.draw_architecture(rng)
        if len(arch.widths) > 2:
            found.setdefault((arch.rule, arch.mode), arch)
    # Then one for every loss none of them has drawn.
    while len({a.loss for a in found.values()}) < len(LOSSES):
        arch = sweep.draw_architecture(rng)
        if len(arch.widths) > 2 and arch.loss not in {a.loss for a in found.values()}:
            found[arch.loss] = arch
    archs = list(found.values())
    for what, names in [("activations", ACTIVATIONS), ("biases", sweep.BIAS_KINDS)]:
        assert {n for a in archs for n in getattr(a, what)} == set(names), what
    return archs


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("arch", cases(), ids=lambda a: f"{a.rule}-{a.mode}-{a.loss}")
def test_stacked_step_gives_each_network_what_it_gets_alone(backend, arch):
    _check_against_alone(backend, arch, 5)


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_a_stack_of_one_network_is_that_network(backend):
    """The smallest stack, which a sweep makes when --count leaves one network over (4,001
    networks at 4,000 an architecture): one network with a trained bias, as alone."""
    arch = next(a for a in cases() if "present" in a.biases)
    _check_against_alone(backend, arch, 1)


def _check_against_alone(backend, arch, count):
    module = load_backend(backend)
    group = sweep.draw_group(np.random.default_rng(7), arch, count)
    stacked = module.stacked_step(*group, arch.loss, arch.learning_rate, arch.rule, arch.mode)
    for k in range(count):
        net, X, T = sweep.network(group, k)
        alone = module.gradients(net, X, T, arch.loss, arch.rule, lr=arch.learning_rate)
        after = module.step(net, X, T, arch.loss, arch.learning_rate, arch.rule, arch.mode)
        check = dict(rtol=RTOL, backend=backend, against="the same network alone")
        assert_close(stacked.loss_before[k], module.loss(net, X, T, arch.loss),
                     quantity=f"network {k} loss_before", **check)
        assert_close(stacked.loss_after[k], module.loss(after, X, T, arch.loss),
                     quantity=f"network {k} loss_after", **check)
        for layer in range(len(net)):
            assert_close(stacked.gradients.weights[layer][k], alone.weights[layer], layer=layer,
                         param="weights", quantity=f"network {k} gradients", **check)
            assert_close(stacked.gradients.errors[layer][k], alone.errors[layer], layer=layer,
                         quantity=f"network {k} errors", **check)
            assert_close(stacked.network[layer].weights[k], after[layer].weights, layer=layer,
                         param="weights", quantity=f"network {k} params_after", **check)
            if alone.biases[layer] is None:
                assert stacked.gradients.biases[layer] is None, f"{backend}: layer {layer} bias"
                if net[layer].bias is not None:     # frozen: carried over unchanged
                    assert_close(stacked.network[layer].bias[k], after[layer].bias, layer=layer,
                                 param="frozen bias", quantity=f"network {k} params_after",
                                 **check)
            else:
                assert_close(stacked.gradients.biases[layer][k], alone.biases[layer],
                             layer=layer, param="bias", quantity=f"network {k} gradients",
                             **check)
                assert_close(stacked.network[layer].bias[k], after[layer].bias, layer=layer,
                             param="bias", quantity=f"network {k} params_after", **check)


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("mode", MODES)
def test_stacked_step_refuses_proportional_as_the_network_alone_is(backend, mode):
    """A network whose layer-1 neuron 0 has incoming weights summing to zero is refused under
    ``proportional`` alone (tests/test_contract.py); numbered 2 in a stack of three, it is
    refused with the very same message, which names the neuron, not the network's number."""
    from reference import Layer, RuleUndefined

    module = load_backend(backend)
    hidden = np.array([[[0.5, -0.5], [0.2, 0.1]]] * 3)
    top = np.array([[[0.5, 0.25], [0.1, 0.2]]] * 3)
    top[2, 0] = [0.5, -0.5]
    stack = (Layer(hidden, None, "sigmoid"), Layer(top, np.zeros((3, 2)), "sigmoid"))
    X = np.array([[[1.0, 2.0], [0.5, -1.0]]] * 3)
    T = np.array([[[0.0, 1.0], [1.0, 0.0]]] * 3)
    net, X2, T2 = sweep.network((stack, X, T), 2)
    with pytest.raises(RuleUndefined) as alone:
        module.step(net, X2, T2, "half_sse", 0.1, "proportional", mode)
    with pytest.raises(RuleUndefined) as stacked:
        module.stacked_step(stack, X, T, "half_sse", 0.1, "proportional", mode)
    assert "layer 1 neuron 0: " in str(alone.value)
    assert str(stacked.value) == str(alone.value), backend


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("bad", ["T-of-3-networks", "X-without-its-sample-axis"])
def test_stacked_step_refuses_a_stack_that_does_not_fit(backend, bad):
    """Arrays that are not a stack of the same number of networks are refused by name, with a
    ValueError, never an IndexError from deeper in: T for 3 of the 4 networks, and an X of shape
    (4,) (one number per network, where every network needs a (samples, inputs) batch)."""
    arch = cases()[0]
    stack, X, T = sweep.draw_group(np.random.default_rng(0), arch, 4)
    X, T, first = (X, T[:3], 3) if bad.startswith("T") else (X[:, 0, 0], T, 4)
    with pytest.raises(ValueError, match=rf"^{bad[0]} of shape \({first},.*\) is not a stack "
                                         "of 4 networks' arrays$"):
        load_backend(backend).stacked_step(stack, X, T, arch.loss, 0.1)


def _stacked(module, arch, group):
    return sweep.as_result(module.stacked_step(*group, arch.loss, arch.learning_rate, arch.rule,
                                               arch.mode))


def test_compare_group_names_the_network_the_place_and_both_values():
    import reference

    arch = cases()[0]
    group = sweep.draw_group(np.random.default_rng(1), arch, 6)
    ref, wrong = _stacked(reference, arch, group), _stacked(reference, arch, group)
    wrong.gradients[1].weights[4, 0, 0] *= 1 + 1e-9       # one entry of network 4, by 1e-9
    checked = sweep.compare_group(arch, group, {"numpy": ref, "planted": wrong})
    assert checked.per_network[4] > 1 and (np.delete(checked.per_network, 4) == 0).all()
    worst = checked.worst
    assert (worst.network, str(worst.place)) == (4, "gradients[layer 1].weights[0][0]")
    assert worst.values[1] - worst.values[0] == pytest.approx(1e-9 * worst.values[0], rel=1e-3)


def test_compare_group_counts_nan_and_a_missing_bias_as_disagreements():
    import reference

    arch = next(a for a in cases() if "present" in a.biases)
    group = sweep.draw_group(np.random.default_rng(1), arch, 3)
    ref, wrong = _stacked(reference, arch, group), _stacked(reference, arch, group)
    wrong.errors[0][2, 0, 0] = np.nan
    checked = sweep.compare_group(arch, group, {"numpy": ref, "planted": wrong})
    assert checked.per_network[2] == np.inf and str(checked.worst.place) == "errors[layer 0][0][0]"
    layer = arch.biases.index("present")
    gradients = list(wrong.gradients)
    gradients[layer] = sweep.Parameters(gradients[layer].weights, None)
    wrong = dataclasses.replace(wrong, gradients=tuple(gradients))
    checked = sweep.compare_group(arch, group, {"numpy": ref, "planted": wrong})
    assert (checked.per_network == np.inf).all()
    assert str(checked.worst) == (f"gradients[layer {layer}].bias (reported by only one of "
                                  "them), on numpy and planted")


def _sweep(capsys, *argv):
    code = cli.main(["sweep", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_sweep_json_and_its_worst_network_rerun_by_check(tmp_path, capsys):
    worst = tmp_path / "worst.toml"
    code, out = _sweep(capsys, "--count", "600", "--per-architecture", "150", "--seed", "3",
                       "--worst", str(worst))
    assert code == 0 and out["ok"] and out["disagreements"] == 0
    assert (out["count"], out["architectures"]) == (600, 4)
    assert out["backends"] == ["numpy", "torch", "jax"]
    assert 0 < out["max_abs_diff"] <= 1e-10 and out["per_second"] > 0
    assert out["worst"]["file"] == str(worst)
    # The file holds the worst network exactly: the same draws again, independently of the run.
    arch, group = list(sweep.groups(3, 600, 150))[out["worst"]["architecture"]]
    net, X, T = sweep.network(group, out["worst"]["network"])
    example = examples.load(worst)
    assert (example.loss, example.learning_rate, example.rule, example.mode, example.steps) == (
        arch.loss, arch.learning_rate, arch.rule, arch.mode, 1)
    assert np.array_equal(example.inputs, X) and np.array_equal(example.targets, T)
    for mine, theirs in zip(example.layers, net, strict=True):
        assert (mine.activation, mine.train_bias) == (theirs.activation, theirs.train_bias)
        assert np.array_equal(mine.weights, theirs.weights)
        assert (mine.bias is None and theirs.bias is None) or np.array_equal(mine.bias,
                                                                              theirs.bias)
    # The worst network through the ordinary one-network code path of every backend.
    assert cli.main(["check", str(worst), "--json"]) == 0
    rerun = json.loads(capsys.readouterr().out)
    assert rerun["ok"] and rerun["max_abs_diff"] <= 1e-10


def test_a_sweep_with_optimizers_agrees_and_its_worst_network_carries_the_optimizer(tmp_path,
                                                                                   capsys):
    """60 architectures, each with a drawn optimizer, convention and settings: every backend
    agrees with the reference, and the worst network's file reruns it with its [optimizer]."""
    worst = tmp_path / "worst.toml"
    code, out = _sweep(capsys, "--count", "600", "--per-architecture", "10", "--seed", "5",
                       "--optimizers", "--worst", str(worst))
    assert code == 0 and out["ok"] and out["optimizers"] and out["architectures"] == 60
    drawn = [arch.optimizer for arch, _ in sweep.groups(5, 600, 10,
                                                        accepts=lambda spec: True)]
    assert {spec.name for spec in drawn} == {"sgd", "adam", "adamw", "rmsprop"}
    arch = list(sweep.groups(5, 600, 10, accepts=_every_backend))[out["worst"]["architecture"]][0]
    assert examples.load(worst).optimizer == arch.optimizer and arch.mode == "batch"
    assert cli.main(["check", str(worst), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]


def _every_backend(spec):
    return all(load_backend(name).refuse_optimizer(spec) is None
               for name in ("numpy", "torch", "jax"))


def test_shards_are_the_whole_sweep_and_merge_into_its_report():
    """Shards 1/3, 2/3 and 3/3 compute disjoint architectures whose union is the whole sweep's,
    and their merged report is the unsharded one: the same networks, the same worst number."""
    modules = {"numpy": load_backend("numpy"), "torch": load_backend("torch")}
    whole = sweep.sweep(modules, 300, 4, per_architecture=20)
    shards = [sweep.sweep(modules, 300, 4, per_architecture=20, shard=(k, 3)) for k in (1, 2, 3)]
    assert sorted(i for r in shards for i in r.indices) == whole.indices == list(range(15))
    assert [r.indices for r in shards] == [[0, 3, 6, 9, 12], [1, 4, 7, 10, 13],
                                           [2, 5, 8, 11, 14]]
    merged = sweep.merge(shards, 1.0)
    assert (merged.networks, merged.architectures) == (300, whole.architectures)
    assert (merged.worst, merged.worst_architecture, merged.max_abs_diff, merged.disagreements,
            merged.diverged) == (whole.worst, whole.worst_architecture, whole.max_abs_diff,
                                 whole.disagreements, whole.diverged)


def test_jobs_run_the_same_sweep_as_one_process(tmp_path, capsys):
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    common = ["--count", "300", "--per-architecture", "20", "--seed", "4", "--backends",
              "numpy,torch"]
    code, alone = _sweep(capsys, *common, "--worst", str(one))
    code_jobs, jobs = _sweep(capsys, *common, "--jobs", "2", "--worst", str(two))
    assert code == code_jobs == 0 and jobs["networks"] == alone["networks"] == 300
    assert (jobs["architectures"], jobs["max_abs_diff"], jobs["worst"]["rel_diff"]) == (
        alone["architectures"], alone["max_abs_diff"], alone["worst"]["rel_diff"])
    assert one.read_text() == two.read_text()


def test_a_float32_sweep_agrees_within_the_float32_tolerance(tmp_path, capsys):
    code, out = _sweep(capsys, "--count", "400", "--per-architecture", "200", "--dtype",
                       "float32", "--worst", str(tmp_path / "w.toml"))
    assert code == 0 and out["tolerance"] == TOLERANCE[("float32", FIRST_STEP)]
    assert out["max_rel_diff"] <= out["tolerance"]


@pytest.fixture
def torch_proportional_over_the_whole_matrix(monkeypatch):
    """PyTorch's proportional rule dividing by the whole matrix's sum instead of each row's."""
    load_backend("torch")
    from torch_impl import backprop

    real = backprop._send_back

    def planted(rule, index, weights, error, delta, grad_w, lr):
        if rule == "proportional":
            return error @ (weights / weights.sum())
        return real(rule, index, weights, error, delta, grad_w, lr)

    monkeypatch.setattr(backprop, "_send_back", planted)


def test_the_sweep_finds_a_bug_planted_in_one_backend(torch_proportional_over_the_whole_matrix,
                                                      tmp_path, capsys):
    worst = tmp_path / "worst.toml"
    # Groups of PADDED_BELOW networks or more are computed by stacked_step, one group a call
    # (tests/test_padded.py plants one in the padded step).
    per = str(sweep.PADDED_BELOW)
    code, out = _sweep(capsys, "--count", str(2 * sweep.PADDED_BELOW), "--per-architecture", per,
                       "--rules", "proportional", "--backends", "numpy,torch", "--worst",
                       str(worst))
    assert code == 1 and not out["ok"] and out["disagreements"] > 0
    assert out["worst"]["backend"] == "torch" and out["max_rel_diff"] > 1e-3
    # The file reproduces the disagreement through `check` (exit 1), and numpy alone agrees.
    assert cli.main(["check", str(worst), "--backends", "numpy,torch"]) == 1
    assert "torch" in capsys.readouterr().out
    assert cli.main(["check", str(worst), "--backends", "numpy"]) == 0


def test_the_sweep_finds_a_bug_planted_in_jax(monkeypatch, tmp_path, capsys):
    load_backend("jax")
    from jax_impl import backprop

    real = backprop._send_back

    def planted(rule, index, weights, error, delta, grad_w, lr):   # raw_error: g·W, 1e-6 long
        if rule == "raw_error":
            return error @ (weights * (1 + 1e-6))
        return real(rule, index, weights, error, delta, grad_w, lr)

    monkeypatch.setattr(backprop, "_send_back", planted)
    backprop._stacked_fn.cache_clear()
    try:
        code, out = _sweep(capsys, "--count", str(3 * sweep.PADDED_BELOW), "--per-architecture",
                           str(sweep.PADDED_BELOW), "--rules", "raw_error", "--backends",
                           "numpy,jax", "--worst", str(tmp_path / "w.toml"))
    finally:
        backprop._stacked_fn.cache_clear()
    assert code == 1 and out["worst"]["backend"] == "jax"
    assert out["worst"]["where"].startswith(("errors", "gradients", "params_after"))


@pytest.mark.parametrize("argv, message", [
    (["--backends", "torch,jax"], "must include numpy"),
    (["--count", "0"], "--count"),
    (["--seed", "-1"], "--seed"),
    (["--rules", "exact,nope"], "--rules"),
    (["--worst", "/nonexistent/folder/w.toml"], "--worst"),
])
def test_bad_sweep_options_are_one_line_and_exit_2(argv, message, capsys):
    assert cli.main(["sweep", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_rule_that_cannot_be_applied_is_exit_2_as_in_run(monkeypatch, tmp_path, capsys):
    """A drawn network whose incoming weights sum to zero under proportional: one line and
    exit 2, the same rule as `crosscheck check` on such a file (tests/test_cli.py)."""
    real = sweep.draw_group

    def zero_sums(rng, arch, count):
        stack, X, T = real(rng, arch, count)
        if arch.rule == "proportional" and len(stack) > 1:
            stack[1].weights[:, 0, :] = 0.0
        return stack, X, T

    monkeypatch.setattr(sweep, "draw_group", zero_sums)
    code = cli.main(["sweep", "--count", "20", "--per-architecture", "10", "--rules",
                     "proportional", "--backends", "numpy", "--seed", "4",
                     "--worst", str(tmp_path / "w.toml")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("crosscheck sweep --seed 4: a drawn network: proportional rule: layer")
