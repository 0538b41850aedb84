"""Padded stacks (``reference/padded.py``): networks of many architectures in one call.

* Each framework's ``padded_step`` gives every network what the same framework's
  ``stacked_step`` gives its architecture's stack, which tests/test_sweep.py checks against the
  one-network functions: padding changes nothing but the order of sums.
* Every padded number is exactly zero: gradients and errors of padded neurons and inactive
  slots, and the parameters there after the step; a zero network (no samples) stays zero.
* The divisors of the losses against their definitions, and the sweep finds a bug planted in a
  framework's padded step.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import reference
from crosscheck import cli
from crosscheck.compare.comparison import Comparison
from crosscheck.compare.magnitudes import magnitudes
from crosscheck.compare.quantities import STACKED, Place
from crosscheck.runs import padded, sweep
from reference.padded import LOSS_FORMS
from reference.types import ACTIVATIONS, RULES, loss_form
from tests.helpers import load_backend


def draws():
    """Architectures of 3 networks each, until every rule × mode, loss (as each backend's
    tables key it), activation, bias kind and depth has been drawn."""
    found = list(sweep.groups(11, 3 * 64, 3))
    archs = [arch for arch, _ in found]
    assert {(a.rule, a.mode) for a in archs} == {(r, m) for r in RULES for m in sweep.MODES}
    assert {loss_form(a.loss, a.activations[-1]) for a in archs} == set(LOSS_FORMS)
    assert {n for a in archs for n in a.activations} == set(ACTIVATIONS)
    assert {n for a in archs for n in a.biases} == set(sweep.BIAS_KINDS)
    assert {len(a.activations) for a in archs} == set(range(1, sweep.MAX_DEPTH + 1))
    return found


def assert_padded_matches(backend, mode, zeros=5):
    """``backend``'s padded step of every drawn group of ``mode`` (and ``zeros`` zero networks
    after them) against its stacked step of each group, number by number. The two are the same
    arithmetic with exact zeros added to some sums, in another order of the nonzero terms: they
    agree to rounding, at the float64 first-step tolerance relative to the magnitude of each
    number's terms, as the sweep judges."""
    drawn = [(arch, group) for arch, group in draws() if arch.mode == mode]
    count = sum(len(group[1]) for _, group in drawn)
    stack = padded.pad(drawn, sweep.SHAPE, "float64", networks=count + zeros)
    comparison, step = _against_stacked(backend, drawn, stack, mode)
    found = comparison.disagreement
    assert found is None, f"{found}; {comparison.differing} of {comparison.compared} differ"
    assert comparison.compared > 0 and np.all(step.loss_before[count:] == 0)
    assert_padding_is_zero(drawn, step)


def _against_stacked(backend, drawn, stack, mode):
    """(Comparison, padded step): ``backend``'s padded step of ``stack`` against its stacked
    step of each group of ``drawn``, on the magnitudes of each number's terms."""
    module = load_backend(backend)
    alone = [sweep.as_result(module.stacked_step(*group, arch.loss, arch.learning_rate,
                                                 arch.rule, mode)) for arch, group in drawn]
    with np.errstate(all="ignore"):
        scales = [magnitudes(*group, arch.loss, arch.rule, arch.learning_rate, result)
                  for (arch, group), result in zip(drawn, alone)]
    comparison = Comparison(f"{backend} unpadded", padded.pad_results(alone, stack),
                            quantities=STACKED, dtype="float64", steps=1, stacked=True,
                            scales=padded.pad_results(scales, stack))
    step = module.padded_step(stack, mode)
    comparison.add(f"{backend} padded", sweep.as_result(step))
    return comparison, step


def assert_padding_is_zero(drawn, step):
    """Every number of ``step`` outside the networks' own layers, neurons, inputs and samples
    is 0 (the masks here from each architecture's widths, not from the Padded stack)."""
    depth, width = sweep.MAX_DEPTH, sweep.MAX_WIDTH
    count = len(step.loss_before)
    weights = np.zeros((count, depth, width, width), bool)
    biases, has_bias = np.zeros((count, depth, width), bool), np.zeros((count, depth, width),
                                                                        bool)
    errors = np.zeros((count, depth, sweep.MAX_SAMPLES, width), bool)
    row = 0
    for arch, (_, X, _) in drawn:
        rows = slice(row, row + len(X))
        row += len(X)
        first = depth - len(arch.activations)
        for slot, (inputs, outputs) in enumerate(zip(arch.widths, arch.widths[1:]),
                                                 start=first):
            weights[rows, slot, :outputs, :inputs] = True
            biases[rows, slot, :outputs] = arch.biases[slot - first] == "present"
            has_bias[rows, slot, :outputs] = arch.biases[slot - first] != "absent"
            errors[rows, slot, :arch.samples, :outputs] = True
    for slot, (grad_w, grad_b, error, layer) in enumerate(zip(
            step.gradients.weights, step.gradients.biases, step.gradients.errors,
            step.network)):
        for name, array, mask in [("weight gradient", grad_w, weights[:, slot]),
                                  ("weights after", layer.weights, weights[:, slot]),
                                  ("bias gradient", grad_b, biases[:, slot]),
                                  ("bias after", layer.bias, has_bias[:, slot]),
                                  ("error", error, errors[:, slot])]:
            assert np.all(array[~mask] == 0), f"slot {slot}: a {name} outside the network"


@pytest.mark.parametrize("backend", ["torch", "jax"])
@pytest.mark.parametrize("mode", sweep.MODES)
def test_padded_step_gives_each_network_what_its_stacked_step_gives(backend, mode):
    assert_padded_matches(backend, mode)


@pytest.mark.parametrize("backend", ["torch", "jax"])
@pytest.mark.parametrize("rule", ["exact", "proportional"])
def test_a_stack_of_one_rule_alone_is_computed_under_that_rule(backend, rule):
    """A stack whose networks all follow one rule (the sweep's ``--rules`` draws such stacks):
    each network gets what its stacked step gives, in both modes."""
    for mode in sweep.MODES:
        drawn = [(arch, group) for arch, group in draws()
                 if arch.mode == mode and arch.rule == rule]
        comparison, _ = _against_stacked(backend, drawn,
                                         padded.pad(drawn, sweep.SHAPE, "float64"), mode)
        assert comparison.compared > 0 and comparison.disagreement is None, \
            f"{mode}: {comparison.disagreement}"


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_fewer_networks_than_samples_step_online_through_every_sample(backend):
    """One network of 8 samples alone, online (a rule's networks may be fewer than the samples
    in a stack): all 8 updates, as its stacked step makes them."""
    drawn = [next((arch, group) for arch, group in sweep.groups(3, 400, 1)
                  if arch.mode == "online" and arch.samples == sweep.MAX_SAMPLES)]
    comparison, _ = _against_stacked(backend, drawn, padded.pad(drawn, sweep.SHAPE, "float64"),
                                     "online")
    assert comparison.disagreement is None, str(comparison.disagreement)


@pytest.mark.parametrize("mode", sweep.MODES)
def test_jax_computes_each_chunk_from_its_lowest_active_slot_for_its_most_samples(monkeypatch,
                                                                                  mode):
    """JAX's padded step sorts a call's networks so that a chunk's are alike (by depth in
    batch mode, by samples online), and computes a chunk from the lowest slot active in any of
    its networks and for as many online updates as the most samples any has. Networks of 4 and
    of 1 layer, with 8 and with 3 samples, interleaved: batch mode computes the 1-layer chunk
    from slot 3 of 4, online the 3-sample chunk for 3 updates of 8 (the bounds here are
    written from the architectures, not from the Padded stack)."""
    jax_padded = load_backend("jax").padded
    kinds = [sweep.Architecture(widths, activations, ("present",) * len(activations), samples,
                                "mse", "exact", mode, 0.01)
             for widths, activations in [((2, 3, 3, 3, 1), ("tanh",) * 4), ((2, 1), ("sigmoid",))]
             for samples in (8, 3)]
    rng = np.random.default_rng(1)
    rounds = 2 * jax_padded.CHUNK // (64 * len(kinds))     # two chunks in all
    stack = padded.pad([(arch, sweep.draw_group(rng, arch, 64))
                        for _ in range(rounds) for arch in kinds],
                       sweep.SHAPE, "float64")        # the kinds interleaved, 64 by 64
    bounds = []
    compiled = jax_padded._compiled

    def spied(mode):
        def call(*args):
            bounds.append(args[-2:])                  # (first slot, online updates)
            return compiled(mode)(*args)
        return call

    monkeypatch.setattr(jax_padded, "_compiled", spied)
    step = jax_padded.padded_step(stack, mode)
    chunks = {"batch": [(0, 8), (sweep.MAX_DEPTH - 1, 8)], "online": [(0, 3), (0, 8)]}
    assert sorted(bounds) == chunks[mode]
    assert np.all(np.isfinite(step.loss_after)) and np.all(step.loss_after > 0)


def test_the_sweep_pads_each_call_in_the_order_the_frameworks_compute_it(monkeypatch):
    """The sweep pads a call's groups by decreasing depth (batch mode) or samples (online),
    ``Padded.order``'s order, so that no framework copies the stack into order: every stack
    the sweep sets a framework on is in that order already (the sweep's key is written apart
    from ``Padded.order``, and this test holds them together)."""
    calls = []
    real = sweep._timed

    def spied(function, stack, mode):
        calls.append((mode, np.array_equal(stack.order(mode), np.arange(len(stack.X)))))
        return real(function, stack, mode)

    monkeypatch.setattr(sweep, "_timed", spied)
    monkeypatch.setattr(sweep, "PADDED_CALL", 60)
    report = sweep.sweep({name: load_backend(name) for name in ("numpy", "torch")}, 400,
                         seed=2, per_architecture=10)
    assert report.ok and {mode for mode, _ in calls} == set(sweep.MODES)
    assert all(in_order for _, in_order in calls), calls


def test_a_place_is_named_in_its_own_network_or_as_padding():
    """A 2-layer network (3 inputs, 2 and 1 neurons, 2 samples) in slots 2 and 3 of 4: its
    layer 0 is slot 2; a slot below it, a padded neuron, a padded input of a layer above the
    first and a padded sample are padding."""
    arch = sweep.Architecture((3, 2, 1), ("tanh", "identity"), ("present", "absent"), 2, "mse",
                              "exact", "batch", 0.1)
    stack = padded.pad([(arch, sweep.draw_group(np.random.default_rng(0), arch, 1))],
                       sweep.SHAPE, "float64")
    named = {place: str(padded.own_place(Place(*place), stack, 0)) for place in [
        ("gradients", 2, "weights", (1, 2)), ("gradients", 3, "weights", (0, 1)),
        ("errors", 3, None, (1, 0)), ("params_after", 3, "bias", (0,)),
        ("gradients", 1, "weights", (0, 0)), ("gradients", 2, "weights", (2, 0)),
        ("gradients", 3, "weights", (0, 2)), ("errors", 3, None, (2, 0))]}
    assert list(named.values()) == [
        "gradients[layer 0].weights[1][2]", "gradients[layer 1].weights[0][1]",
        "errors[layer 1][1][0]", "params_after[layer 1].bias[0]",
        "gradients (padding)[layer 1].weights[0][0]",
        "gradients (padding)[layer 2].weights[2][0]",
        "gradients (padding)[layer 3].weights[0][2]", "errors (padding)[layer 3][2][0]"]
    assert str(padded.own_place(Place("loss_before"), stack, 0)) == "loss_before"
    # Four layers (3 inputs; 4, 2, 5 and 1 neurons) fill every slot: layer l is slot l.
    deep = sweep.Architecture((3, 4, 2, 5, 1), ("relu",) * 3 + ("identity",), ("absent",) * 4,
                              1, "sse", "exact", "batch", 0.1)
    stack = padded.pad([(deep, sweep.draw_group(np.random.default_rng(0), deep, 1))],
                       sweep.SHAPE, "float64")
    assert [str(padded.own_place(Place("gradients", slot, "weights", index), stack, 0))
            for slot, index in [(0, (0, 2)), (1, (1, 3)), (1, (1, 4)), (3, (0, 4))]] == [
        "gradients[layer 0].weights[0][2]", "gradients[layer 1].weights[1][3]",
        "gradients (padding)[layer 1].weights[1][4]", "gradients[layer 3].weights[0][4]"]


def _numpy_results(drawn):
    numpy = load_backend("numpy")
    return [sweep.as_result(numpy.stacked_step(*group, arch.loss, arch.learning_rate, arch.rule,
                                               arch.mode)) for arch, group in drawn]


def test_the_real_entries_of_a_padded_result_are_the_groups_numbers_in_their_order():
    """The reference's Results of every drawn group, written into the padded stack's rows and
    slots (``pad_results``) and read at ``real_entries``, are the same numbers as those Results
    laid out by ``real_results``: the same order, network by network; of the networks kept
    only, as many as their own layers, inputs and samples hold (counted from the widths)."""
    drawn = draws()
    stack = padded.pad(drawn, sweep.SHAPE, "float64")
    results = _numpy_results(drawn)
    kept = np.random.default_rng(1).random(len(stack.X)) > 0.2
    inputs = np.concatenate([np.full(len(group[1]), arch.widths[0]) for arch, group in drawn])
    entries = padded.real_entries(stack, inputs, kept)
    read = padded.real_values(padded.pad_results(results, stack), entries)
    laid = padded.real_results(results, sweep.MAX_DEPTH, kept)
    counted = 0
    for quantity in STACKED:
        for (place, a), (_, b) in zip(quantity.leaves(quantity.value(read, 0.0)),
                                      quantity.leaves(quantity.value(laid, 0.0))):
            assert np.array_equal(a, b), place
            counted += a.size
    per_network = [arch.samples * sum(arch.widths[1:]) + 2 * sum(
        o * (i + 1) for i, o in zip(arch.widths, arch.widths[1:])) + 2
        for arch, group in drawn for _ in group[1]]
    assert counted == np.dot(per_network, kept)


def test_a_nonzero_number_in_the_padding_is_found_and_named_as_padding(monkeypatch):
    """PyTorch's padded step planted to report 1e-3 as the weight gradient [0][0] of slot 0:
    every network disagrees, those of 4 layers on a real number and the others (50 of 60) in
    the padding, where it is the worst, named as padding; and in a network that is not
    compared (diverged) it is not found."""
    torch_padded = load_backend("torch")
    real = torch_padded.padded_step

    def planted(stack, mode):
        step = real(stack, mode)
        step.gradients.weights[0][:, 0, 0] = 1e-3
        return step

    monkeypatch.setattr(torch_padded, "padded_step", planted)
    report = sweep.sweep({"numpy": load_backend("numpy"), "torch": torch_padded}, 60,
                         seed=0, per_architecture=10)
    shallow = [len(arch.activations) < sweep.MAX_DEPTH
               for arch, group in sweep.groups(0, 60, 10) for _ in group[1]]
    assert sum(shallow) == 50 and report.disagreements == 60
    assert (str(report.worst.place), report.worst.values) == (
        "gradients (padding)[layer 0].weights[0][0]", (0.0, 1e-3))

    drawn = list(sweep.groups(0, 60, 10))
    stack = padded.pad(drawn, sweep.SHAPE, "float64")
    result = sweep.as_result(planted(stack, "batch"))
    inputs = np.concatenate([np.full(len(group[1]), arch.widths[0]) for arch, group in drawn])
    kept = np.arange(len(stack.X)) != shallow.index(True)
    entries = padded.real_entries(stack, inputs, kept)
    found = padded.padding(result, padded.real_values(result, entries), entries, kept)
    assert [(str(place), values.tolist()) for place, _, values in found] == [
        ("gradients[layer 0].weights", [1e-3] * (sum(shallow) - 1))]


def test_divisors_are_those_of_each_loss():
    """mean over elements for MSELoss and the binary cross-entropies, over samples for
    CrossEntropyLoss, none for the sums; online, one sample's."""
    drawn = draws()
    stack = padded.pad(drawn, sweep.SHAPE, "float64")
    rows = np.cumsum([0] + [len(group[1]) for _, group in drawn])[:-1]
    for row, (arch, (_, _, T)) in zip(rows, drawn):
        samples, outputs = T.shape[1:]
        want = {"mse": samples * outputs, "cross_entropy": samples,
                "binary_cross_entropy": samples * outputs}.get(arch.loss, 1)
        online = {"mse": outputs, "binary_cross_entropy": outputs}.get(arch.loss, 1)
        assert (stack.divisor()[row], stack.divisor(one_sample=True)[row]) == (want, online), \
            arch.describe()


@pytest.mark.parametrize("call", [sweep.PADDED_CALL, 30], ids=["one call", "pipelined"])
def test_the_sweep_finds_a_bug_planted_in_torch_padded_step(monkeypatch, call):
    """PyTorch's padded proportional rule dividing by the whole matrix's sum instead of each
    row's: found, and the worst number named in its own network's layers: the NumPy reference
    of that network alone has the reported value at the reported place. With calls of 30
    networks, a dozen calls are in flight and compared while the next ones are computed."""
    monkeypatch.setattr(sweep, "PADDED_CALL", call)
    load_backend("torch")
    import torch

    from torch_impl import padded as torch_padded

    real = torch_padded._send_back

    def planted(rule, weights, neurons, error, chain, grad_w, lr):
        whole = error @ (weights / weights.sum((-2, -1), keepdim=True))
        return torch.where(rule == RULES.index("proportional"), whole,
                           real(rule, weights, neurons, error, chain, grad_w, lr))

    monkeypatch.setattr(torch_padded, "_send_back", planted)
    modules = {name: load_backend(name) for name in ("numpy", "torch")}
    report = sweep.sweep(modules, 400, seed=5, rules=["proportional"], per_architecture=10)
    worst = report.worst
    assert report.disagreements > 0 and worst.backends == ("numpy", "torch")
    arch = report.architecture(report.worst_architecture)
    group = list(sweep.groups(5, 400, 10, rules=["proportional"]))[report.worst_architecture][1]
    assert worst.values[0] == pytest.approx(_reference_number(arch, group, worst), rel=1e-12,
                                            abs=1e-300)
    assert worst.place.layer is None or worst.place.layer < len(arch.activations)


def _reference_number(arch, group, worst) -> float:
    """The NumPy reference's number at ``worst.place`` for network ``worst.network`` of
    ``group``, computed for that network alone through the public one-network functions."""
    net, X, T = sweep.network(group, worst.network)
    place = worst.place
    if place.quantity == "loss_before":
        return reference.loss(net, X, T, arch.loss)
    if place.quantity in ("gradients", "errors"):
        grads = reference.gradients(net, X, T, arch.loss, arch.rule, lr=arch.learning_rate)
        found = grads.errors[place.layer] if place.quantity == "errors" else \
            (grads.weights if place.part == "weights" else grads.biases)[place.layer]
        return float(found[place.index])
    after = reference.step(net, X, T, arch.loss, arch.learning_rate, arch.rule, arch.mode)
    if place.quantity == "loss_after":
        return reference.loss(after, X, T, arch.loss)
    return float(getattr(after[place.layer], place.part)[place.index])


def test_a_framework_that_leaves_out_an_array_is_a_disagreement_of_no_one_network(monkeypatch):
    """A padded step without a bias gradient: every network disagrees and no file is written
    (there is no one worst network), and the sweep says so instead of failing."""
    torch_padded = load_backend("torch")
    real = torch_padded.padded_step

    def missing(padded, mode):
        step = real(padded, mode)
        biases = (None, *step.gradients.biases[1:])
        return step._replace(gradients=step.gradients._replace(biases=biases))

    monkeypatch.setattr(torch_padded, "padded_step", missing)
    report = sweep.sweep({"numpy": load_backend("numpy"), "torch": torch_padded}, 100,
                         per_architecture=10)
    assert report.disagreements == 100 and report.worst.network is None
    assert "reported by only one of them" in str(report.worst) and report.worst_file is None


def test_the_sweep_finds_a_bug_planted_in_jax_padded_step(monkeypatch, tmp_path, capsys):
    """JAX's padded raw_error sending g·W 1e-6 too long: found (its compiled function is built
    again with the bug, and once more after)."""
    load_backend("jax")
    from jax_impl import padded as jax_padded

    real = jax_padded._send_back

    def planted(rule, weights, neurons, error, chain, grad_w, lr):
        return real(rule, weights * (1 + 1e-6), neurons, error, chain, grad_w, lr)

    monkeypatch.setattr(jax_padded, "_send_back", planted)
    jax_padded._compiled.cache_clear()
    try:
        code = cli.main(["sweep", "--count", "200", "--per-architecture", "10", "--rules",
                         "raw_error", "--backends", "numpy,jax", "--worst",
                         str(tmp_path / "w.toml"), "--json"])
    finally:
        jax_padded._compiled.cache_clear()
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["worst"]["backend"] == "jax"
    assert out["worst"]["where"].startswith(("errors", "gradients", "params_after"))
