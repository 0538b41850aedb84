"""The one comparison's teeth: what it catches, what it lets through, and its scales.

Every planted difference here is made by hand on a copy of the reference's own result, so the
only code under test is the comparison (and, for the scales, the magnitudes it is given): a
difference of 1e-9 of a number is a bug, one of 1e-14 is float64 rounding, and a flipped sign
in a layer of gradients of 1e-25 is a bug however small the numbers are.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

import reference
from crosscheck import examples
from crosscheck.compare.comparison import Comparison, Disagreement, Entries
from crosscheck.compare.magnitudes import magnitudes
from crosscheck.compare.quantities import BY_KEY, REPORTED, STACKED, Parameters, Place, Result
from crosscheck.compare.tolerances import AFTER_STEPS, FIRST_STEP, TOLERANCE, phase, tolerance
from crosscheck.runs import example as runs
from crosscheck.runs import sweep
from tests.helpers import load_backend

SHIPPED = [p.stem for p in examples.shipped()]
CASES = [(name, rule) for name in SHIPPED for rule in reference.RULES]


@functools.cache
def one_step(name, rule):
    """The reference's one-step Result of a shipped example, and the magnitudes of its terms."""
    example = examples.load(examples.find(name))
    settings = runs.Settings.of(example, rule=rule, steps=1)
    result = runs.compute(reference, example, settings)
    return result, magnitudes(example.layers, example.inputs, example.targets, example.loss,
                              rule, example.learning_rate, result)


def with_gradient(result, layer, part, index, factor):
    """A copy of ``result`` with one gradient entry multiplied by ``factor``."""
    gradients = [Parameters(p.weights.copy(), None if p.bias is None else p.bias.copy())
                 for p in result.gradients]
    getattr(gradients[layer], part)[index] *= factor
    return dataclasses.replace(result, gradients=tuple(gradients))


def compared(result, planted, scales, steps=1):
    comparison = Comparison("numpy", result, quantities=REPORTED, dtype="float64", steps=steps,
                            scales=scales)
    comparison.add("planted", planted)
    return comparison


def gradient_entries(result):
    for layer, params in enumerate(result.gradients):
        for part in ("weights", "bias"):
            array = getattr(params, part)
            if array is not None:
                for index in np.ndindex(array.shape):
                    yield layer, part, index


@pytest.mark.parametrize(("name", "rule"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_any_gradient_entry_off_by_1e_9_of_itself_is_caught_and_by_1e_14_is_not(name, rule):
    """Every gradient entry of every shipped example, one at a time: 1 + 1e-9 is a
    disagreement that names the entry, 1 + 1e-14 (a few float64 roundings) is not.

    An entry that cancels to below 1e-4 of the terms it is computed from is planted 1e-9 of
    1e-4 of its terms off instead: float64 carries its terms to 1e-16, so 1e-9 of such an entry
    is below rounding and no comparison can see it (seed000-adam under raw_error_new_weights:
    layer 0's bias 1 is 6.1e-7, from terms of 2.4)."""
    result, scales = one_step(name, rule)
    for layer, part, index in gradient_entries(result):
        place = Place("gradients", layer, part, index)
        value = abs(getattr(result.gradients[layer], part)[index])
        size = max(value, 1e-4 * getattr(scales.gradients[layer], part)[index])
        found = compared(result, with_gradient(result, layer, part, index, 1 + 1e-9 * size / value),
                         scales).disagreement
        assert found is not None and found.place == place, \
            f"{name} [{rule}]: {place} off by 1e-9 of {size:.3g} was not caught"
        quiet = compared(result, with_gradient(result, layer, part, index, 1 + 1e-14), scales)
        assert quiet.agree, f"{name} [{rule}]: {place} off by 1e-14 was called a disagreement"


def saturated_ten_layers():
    """Ten sigmoid layers of two neurons with weights 4: every neuron saturates at
    σ(8) = 0.99966, its slope is 3.4e-4, and the first layer's gradient is about 1e-27."""
    net = tuple(reference.Layer(np.full((2, 1 if i == 0 else 2), 4.0), None, "sigmoid")
                for i in range(10))
    return net, np.array([[2.0]]), np.array([[0.0, 0.0]])


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_a_flipped_sign_in_a_layer_of_gradients_near_1e_25_is_caught(backend):
    """Compared relative to max(1, |value|), as the harness once did, that whole layer with its
    sign flipped would differ by 1e-26 "absolutely" and pass. Relative to the terms it is
    computed from, the flip is caught on every backend, and the backends themselves agree."""
    module = load_backend(backend)
    net, X, T = saturated_ten_layers()
    example = dataclasses.replace(examples.load(examples.find("seed002-linear")), layers=net,
                                  inputs=X, targets=T, figures=(), loss="half_sse")
    settings = runs.Settings.of(example, steps=1)
    ref = runs.compute(reference, example, settings)
    got = runs.compute(module, example, settings)
    scales = magnitudes(net, X, T, "half_sse", "exact", example.learning_rate, ref)
    assert 1e-28 < np.abs(ref.gradients[0].weights).max() < 1e-24
    assert compared(ref, got, scales).agree, compared(ref, got, scales).worst
    flipped = with_gradient(got, 0, "weights", (slice(None),), -1.0)
    found = compared(ref, flipped, scales).disagreement
    assert found is not None and found.place.at(()) == Place("gradients", 0, "weights")


def test_magnitudes_bound_every_number_of_a_step():
    """|number| ≤ its magnitude (up to the rounding of both) for every quantity of one step,
    on random stacks of every architecture kind the sweep draws."""
    rng = np.random.default_rng(11)
    for _ in range(12):
        arch = sweep.draw_architecture(rng)
        stack, X, T = sweep.draw_group(rng, arch, 40)
        run = (arch.loss, arch.learning_rate, arch.rule, arch.mode)
        result = sweep.as_result(reference.stacked_step(stack, X, T, *run))
        scales = magnitudes(stack, X, T, arch.loss, arch.rule, arch.learning_rate, result)
        for quantity in STACKED:
            pairs = zip(quantity.leaves(quantity.value(result, 0.0)),
                        quantity.leaves(quantity.value(scales, 0.0)))
            for (place, value), (_, bound) in pairs:
                if value is None or quantity.key == "loss_after" or (
                        arch.mode == "online" and quantity.phase == AFTER_STEPS):
                    continue    # not bounds: see magnitudes.py (the loss after; online passes)
                excess = np.abs(value) - bound * (1 + 1e-12)
                assert (excess <= 0).all(), f"{arch.describe()}: {place} exceeds its magnitude"


def test_saturated_slopes_and_cancelling_sums_are_not_disagreements():
    """Two correct backends on numbers whose own size hides their rounding: a tanh layer at
    1 − a² ≈ 1e-6 (the slope computed from a loses six digits) and a one-neuron bias gradient
    that is a sum of per-sample terms cancelling to 1e-4 of their size."""
    torch = load_backend("torch")
    hidden = reference.Layer(np.array([[3.0, 4.0]]), None, "tanh")
    top = reference.Layer(np.array([[1.0]]), np.array([0.0]), "identity")
    X = np.array([[1.0, 1.0], [-0.2, 0.1], [0.3, -0.25]])
    # Targets a little off the outputs, so that the output errors sum to 1e-5 of their size.
    T = reference.forward((hidden, top), X)[-1] + np.array([[0.3], [-0.2], [-0.1 + 6e-6]])
    example = dataclasses.replace(examples.load(examples.find("seed002-linear")),
                                  layers=(hidden, top), inputs=X, targets=T, figures=())
    settings = runs.Settings.of(example, steps=1)
    ref, got = runs.compute(reference, example, settings), runs.compute(torch, example, settings)
    assert 1 - np.tanh(7.0) ** 2 < 1e-5 and abs(ref.gradients[1].bias[0]) < 1e-5
    scales = magnitudes(example.layers, X, T, example.loss, "exact", example.learning_rate,
                        ref)
    assert compared(ref, got, scales).agree, compared(ref, got, scales).worst


@pytest.mark.parametrize(("ref", "other", "agree"), [
    (1.0, 1.0, True), (math.nan, math.nan, True), (math.inf, math.inf, True),
    (math.inf, -math.inf, False), (math.nan, 1.0, False), (1.0, math.nan, False),
    (0.0, 1e-300, False), (0.0, 0.0, True), (1.0, 1 + 1e-13, True), (1.0, 1 + 1e-11, False),
], ids=["equal", "both-nan", "same-inf", "opposite-inf", "nan-against-finite",
        "finite-against-nan", "zero-scale", "zeros", "within", "past"])
def test_one_number(ref, other, agree):
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), np.array([ref]), np.array([other]), 1e-12)
    assert comparison.agree is agree, comparison.worst


@pytest.mark.parametrize(("abs_diff", "scale", "tol", "rel_diff", "excess"), [
    (2.0, 4.0, 0.25, 0.5, 2.0), (0.0, 0.0, 1e-12, 0.0, 0.0), (1e-300, 0.0, 1e-12, math.inf,
                                                                 math.inf),
    (0.0, 1.0, 0.0, 0.0, 0.0), (1e-300, 1.0, 0.0, 1e-300, math.inf),
], ids=["ratio", "nothing-against-zero", "something-against-zero", "exact-and-equal",
        "exact-and-different"])
def test_a_disagreement_measures_its_difference_in_units_of_what_is_allowed(
        abs_diff, scale, tol, rel_diff, excess):
    """rel_diff = |a − b| / scale and excess = rel_diff / tolerance; a tolerance of 0 (exact
    agreement) allows no difference at all and a scale of 0 no relative one, without dividing
    by zero."""
    found = Disagreement(Place("x"), ("a", "b"), (1.0, 1.0), abs_diff, scale, tol)
    assert (found.rel_diff, found.excess) == (rel_diff, excess)


def test_beside_a_nan_the_finite_numbers_keep_their_own_scale_and_largest_difference():
    """Where both backends give NaN at one place, the rest of the array is still judged against
    its largest magnitude (4 here, from a negative value): −4 off by 2e-12 agrees at 1e-12 of
    4, and the largest difference reported is that finite 2e-12, not 0 or NaN."""
    ref, other = np.array([-4.0, math.nan]), np.array([-4.0 - 2e-12, math.nan])
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), ref, other, 1e-12)
    assert comparison.agree, comparison.worst
    comparison.add_array("b", Place("y"), np.array([1.0, 2.0]), np.array([math.nan, 2.5]), 1e-12)
    assert not comparison.agree and comparison.max_abs_diff == 0.5
    assert comparison.worst.abs_diff == math.inf     # finite on one backend only


def test_beside_a_nan_small_numbers_keep_their_small_scale():
    """The NaN's place adds nothing to the scale: numbers of 1e-3 beside it are judged at
    1e-12 of 1e-3, so a difference of 1e-14 (1e-11 of them) is caught."""
    ref = np.array([1e-3, math.nan])
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), ref, ref + np.array([1e-14, 0.0]), 1e-12)
    assert not comparison.agree and comparison.worst.place == Place("x", index=(0,))


@pytest.mark.parametrize(("ref", "other", "problem"), [
    (np.zeros(2), np.zeros(3), "shape (2,) against (3,)"),
    (np.zeros(2), None, "reported by only one of them"),
    (None, np.zeros(2), "reported by only one of them"),
], ids=["shapes", "only-the-reference", "only-the-other"])
def test_arrays_that_cannot_be_compared_number_by_number(ref, other, problem):
    comparison = Comparison("a")
    comparison.add_array("b", Place("x", 0, "bias"), ref, other, 1e-12)
    assert not comparison.agree and comparison.worst.problem == problem
    assert str(comparison.worst) == f"x[layer 0].bias ({problem}), on a and b"


def test_a_stack_is_judged_network_by_network_on_each_networks_scale():
    """Network 0's numbers are 1e6 times network 1's and 1e26 times network 2's: a difference
    of 1e-9 of network 2's values is caught there though it is tiny beside the others', and
    network 0's rounding (1e-14 of its own values) is not."""
    ref = np.array([[1e6, 2e6], [1.0, 2.0], [-2e-20, 1e-20]])
    other = ref.copy()
    other[0, 1] *= 1 + 1e-14
    other[2, 0] *= 1 + 1e-9
    comparison = Comparison("a", stacked=True)
    comparison.add_array("b", Place("x"), ref, other, 1e-12)
    assert comparison.per_network[0] < 1 and comparison.per_network[1] == 0
    assert comparison.per_network[2] > 1
    assert comparison.worst.network == 2 and comparison.worst.place == Place("x", index=(0,))


def test_each_network_of_a_stack_of_matrices_keeps_its_own_worst_over_every_array():
    """Stacks of matrices (networks × rows × columns): each network's scale is its own matrix's
    largest magnitude, and its worst ratio is the worst over every array compared, whichever
    array it was in."""
    ref = np.stack([np.full((2, 3), 1e6), np.full((2, 3), -1e-3)])
    planted = ref.copy()
    planted[1, 1, 2] += 1e-13               # 1e-10 of network 1's scale of 1e-3: caught
    comparison = Comparison("a", stacked=True)
    comparison.add_array("b", Place("x", 0), ref, planted, 1e-12)
    comparison.add_array("b", Place("x", 1), ref, ref, 1e-12)
    assert comparison.per_network[0] == 0 and comparison.per_network[1] > 1, \
        comparison.per_network
    assert (comparison.worst.network, comparison.worst.place) == (1, Place("x", 0, index=(1, 2)))


def test_entries_hold_each_networks_numbers_one_after_another():
    """The worked example of ``Entries``: the first rows of 2 networks of shape (2, 2, 3)."""
    entries = Entries((2, 2, 3), np.array([0, 1, 2, 6, 7, 8]))
    assert entries.per_network(np.array([1.0, 5.0, 2.0, 0.5, 3.0, 0.0])).tolist() == [5.0, 3.0]
    assert tuple(int(i) for i in entries.index(4)) == (1, 0, 1)
    # A network with no entries has none to be worst in.
    entries = Entries((3, 4), np.array([0, 1, 9]))
    assert entries.per_network(np.array([2.0, 1.0, 7.0])).tolist() == [2.0, 0.0, 7.0]


@pytest.mark.parametrize("scaled", [True, False], ids=["on scales", "on each networks own"])
def test_a_stack_compared_at_some_entries_is_judged_as_the_whole_stack_is(scaled):
    """Stacks of (4, 3, 5) matrices, zero and alike outside the entries of each network's
    corner (network 2 has none), with planted differences: compared at those entries only, the
    same worst number, place, network and ratio per network as compared whole."""
    rng = np.random.default_rng(0)
    corner = np.zeros((4, 3, 5), bool)
    for network, (rows, columns) in enumerate([(2, 3), (3, 5), (0, 0), (1, 2)]):
        corner[network, :rows, :columns] = True
    ref = np.where(corner, rng.standard_normal(corner.shape) * [[[1e3]], [[1]], [[1]], [[1e-9]]],
                   0.0)
    other = ref * (1 + 1e-15 * rng.standard_normal(ref.shape))
    other[3, 0, 1] *= 1 + 1e-10              # caught in network 3, on its own small scale
    scale = np.abs(ref) * 2 if scaled else None
    whole, some = Comparison("a", stacked=True), Comparison("a", stacked=True)
    whole.add_array("b", Place("x", 1, "weights"), ref, other, 1e-12, scale)
    entries = Entries(ref.shape, np.flatnonzero(corner))
    some.add_array("b", Place("x", 1, "weights"), ref[corner], other[corner], 1e-12,
                   None if scale is None else scale[corner], entries)
    assert some.worst == whole.worst and some.worst.excess > 1
    assert (some.worst.network, some.worst.place.index) == (3, (0, 1))
    assert np.array_equal(some.per_network, whole.per_network)
    assert some.max_abs_diff == whole.max_abs_diff and some.compared == corner.sum()


def test_an_array_missing_from_a_stack_compared_at_entries_fails_each_of_its_networks():
    """A stack of 2 networks compared at the entries of (2, 2, 3) arrays: an array one backend
    does not report is a disagreement of every network, one ratio per network."""
    entries = {Place("x", 0, "weights"): Entries((2, 2, 3), np.array([0, 1, 6, 7]))}
    ref = Result(np.zeros(2), (Parameters(np.ones(4), None),), (), (), np.zeros((2, 1)))
    comparison = Comparison("a", ref, quantities=[BY_KEY["gradients"]], stacked=True,
                            entries=entries)
    comparison.add("b", Result(np.zeros(2), (Parameters(None, None),), (), (), np.zeros((2, 1))))
    assert comparison.per_network.tolist() == [math.inf, math.inf]
    assert comparison.worst.problem == "reported by only one of them"


def test_the_policy_judges_one_step_as_the_first_step_is():
    after = next(q for q in REPORTED if q.key == "params_after")
    first = next(q for q in REPORTED if q.key == "gradients")
    assert phase(after, 1) == phase(first, 5) == FIRST_STEP and phase(after, 2) == AFTER_STEPS
    assert tolerance("float64", after, 1) == TOLERANCE[("float64", FIRST_STEP)]
    assert tolerance("float32", after, 3) == TOLERANCE[("float32", AFTER_STEPS)]


def test_a_difference_of_exactly_the_tolerance_agrees():
    """A number agrees when |a − b| ≤ tolerance × scale: at equality it agrees, one step of
    rounding past it does not. 1 and 1 + 2⁻⁴⁴ differ by exactly 2⁻⁴⁴ = tolerance × scale 1
    (powers of two: every number here is exact)."""
    for other, agree in ((1 + 2.0**-44, True), (1 + 2.0**-43, False)):
        comparison = Comparison("a")
        comparison.add_array("b", Place("x"), np.array([1.0]), np.array([other]), 2.0**-44)
        assert comparison.agree is agree, (other, comparison.worst)
        assert comparison.differing == (0 if agree else 1), (other, comparison.differing)
    both = Comparison("a")
    both.add_array("b", Place("x"), np.ones(2), np.array([1 + 2.0**-44, 1 + 2.0**-43]),
                   2.0**-44)
    assert both.differing == 1, "the number at exactly its tolerance was counted as differing"


def test_empty_arrays_compare_nothing_and_agree():
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), np.zeros((0, 3)), np.zeros((0, 3)), 1e-12)
    assert comparison.agree and (comparison.compared, comparison.max_abs_diff) == (0, 0.0)


def test_the_comparison_counts_the_numbers_compared_and_those_past_their_tolerance():
    ref = np.arange(1.0, 7.0).reshape(2, 3)
    other = ref.copy()
    other[0, 1] += 1e-3
    other[1, 2] += 1e-20                 # within 1e-12 of the array's scale (6): no difference
    comparison = Comparison("a")
    comparison.add_array("b", Place("x", 0), ref, other, 1e-12)
    comparison.add_array("b", Place("x", 1), ref[0], ref[0], 1e-12)
    assert (comparison.compared, comparison.differing) == (9, 1)
    assert comparison.max_abs_diff == abs(other[0, 1] - ref[0, 1])


def test_an_array_alone_is_judged_against_its_largest_value_not_row_by_row():
    """Outside a stack the whole array is one scale: rounding of 1e-14 of its largest value
    agrees in a row of values a million times smaller."""
    ref = np.array([[1.0, 1.0], [1e-6, 1e-6]])
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), ref, ref + np.array([[0.0, 0.0], [1e-14, 0.0]]), 1e-12)
    assert comparison.agree, comparison.worst


def test_negative_numbers_are_judged_against_their_magnitude():
    """An array of negative numbers off by rounding agrees: its scale is its largest |v|."""
    ref = np.array([-4.0, -2.0])
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), ref, ref * (1 + 1e-15), 1e-12)
    assert comparison.agree, comparison.worst


def test_each_reference_array_is_judged_on_its_own_scale_at_one_place():
    """Two arrays compared at the same place (as the rules report compares each rule's
    measurements): the second, of 1.0, is judged on its own scale and not on the first's,
    a million times larger, whose allowance would pass its difference of 1e-9; the first
    reference array, compared again, still passes its own rounding."""
    comparison = Comparison("a")
    large, small = np.array([1e6]), np.array([1.0])
    comparison.add_array("b", Place("x"), large, large + 1e-7, 1e-12)
    assert comparison.agree, comparison.worst
    comparison.add_array("c", Place("x"), small, small + 1e-9, 1e-12)
    assert not comparison.agree and comparison.worst.backends == ("a", "c")
    assert comparison.worst.scale == 1.0, comparison.worst
    comparison.add_array("d", Place("x"), large, large + 1e-7, 1e-12)
    assert comparison.differing == 1


def test_the_same_reference_array_is_judged_on_each_scale_it_is_given():
    """One reference array at one place, first with the large scale of its terms (1e6) and
    then with none (its own largest value, 1.0): the second comparison uses its own scale, on
    which a difference of 1e-9 is past 1e-12."""
    comparison, ref = Comparison("a"), np.array([1.0])
    comparison.add_array("b", Place("x"), ref, ref + 1e-9, 1e-12, np.array([1e6]))
    assert comparison.agree, comparison.worst
    comparison.add_array("c", Place("x"), ref, ref + 1e-9, 1e-12)
    assert not comparison.agree and comparison.worst.backends == ("a", "c")


@pytest.mark.parametrize("rest", [[], [math.nan], [math.inf]], ids=["finite", "nan", "inf"])
def test_a_number_is_judged_on_the_reference_magnitude_not_the_other(rest):
    """1.0 against 2.0 at a tolerance of 0.7: a difference of 1.0 is more than 0.7 of the
    reference's 1.0, though less than 0.7 of the other backend's 2.0; so also beside a
    non-finite number that both have."""
    comparison = Comparison("a")
    comparison.add_array("b", Place("x"), np.array([1.0, *rest]), np.array([2.0, *rest]), 0.7)
    assert not comparison.agree and comparison.worst.scale == 1.0, comparison.worst
    assert comparison.differing == 1


def test_when_everything_agrees_exactly_the_first_number_compared_is_reported():
    """Ties keep the first number found: with every difference 0, the worst is the first."""
    comparison = Comparison("a")
    for layer in range(3):
        comparison.add_array("b", Place("x", layer), np.ones(2), np.ones(2), 1e-12)
    assert comparison.worst.place == Place("x", 0, index=(0,)), comparison.worst


def test_a_comparison_judges_one_step_unless_told_otherwise():
    """Without ``steps``, the parameters after the step are judged at the first step's
    tolerance, as a one-step run's are: 1e-10 of a weight is a disagreement; told that the
    run took 2 steps, it is within the after-steps tolerance of 1e-9."""
    result, scales = one_step("seed002-linear", "exact")
    params = [Parameters(p.weights * (1 + 1e-10), p.bias) for p in result.params_after]
    planted = dataclasses.replace(result, params_after=tuple(params))
    default = Comparison("numpy", result, quantities=REPORTED, scales=scales)
    default.add("planted", planted)
    assert not default.agree and default.worst.place.quantity == "params_after"
    assert compared(result, planted, scales, steps=2).agree


def test_an_optional_quantity_is_compared_when_both_backends_report_it():
    """Deltas, pre-activations and loss terms come from the contract's optional
    ``intermediates``: reported by both, they are compared like everything else."""
    result, scales = one_step("seed002-linear", "exact")
    for field in ("deltas", "pre_activations_before"):
        arrays = [np.array(a, copy=True) for a in getattr(result, field)]
        arrays[-1][0, 0] *= 1 + 1e-6
        found = compared(result, dataclasses.replace(result, **{field: tuple(arrays)}),
                         scales).disagreement
        assert found is not None and found.place.quantity == field, f"{field}: not compared"


def test_an_optional_quantity_one_backend_lacks_is_left_out_on_either_side():
    """A backend without ``intermediates`` reports None there: nothing to compare, whichever
    side lacks it, and everything else still agrees."""
    result, scales = one_step("seed002-linear", "exact")
    lacking = dataclasses.replace(result, deltas=None, pre_activations_before=None,
                                  loss_terms_before=None)
    both = compared(result, result, scales)
    for reference_side, other in ((result, lacking), (lacking, result)):
        comparison = compared(reference_side, other, scales)
        assert comparison.agree and 0 < comparison.compared < both.compared


def test_after_a_long_run_each_array_is_judged_against_its_largest_value_not_its_terms():
    """The tolerance policy: after more than one step, 1e-9 of the array's largest value, even
    where the first step's magnitudes are given (as ``crosscheck run`` gives them). A
    difference of 0.5e-9 of the largest weight on the weight with the smallest magnitude agrees;
    judged against that weight's own terms it would not."""
    result, scales = one_step("seed000", "exact")
    weights = np.array(result.params_after[0].weights, copy=True)
    magnitude = np.asarray(scales.params_after[0].weights)
    k = np.unravel_index(np.argmin(magnitude), magnitude.shape)
    assert np.abs(weights).max() > 4 * magnitude[k]       # the two scales differ enough
    weights[k] += 0.5e-9 * np.abs(weights).max()
    params = (Parameters(weights, result.params_after[0].bias), *result.params_after[1:])
    planted = dataclasses.replace(result, params_after=params)
    assert compared(result, planted, scales, steps=100).agree
    assert not compared(result, planted, scales, steps=1).agree
    weights[k] += 1.5e-9 * np.abs(weights).max()          # 2e-9 of it in all: past 1e-9
    params = (Parameters(weights, result.params_after[0].bias), *result.params_after[1:])
    planted = dataclasses.replace(result, params_after=params)
    assert not compared(result, planted, scales, steps=100).agree


def test_the_tolerances_are_the_documented_ones():
    """docs/conventions.md and the JSON's ``tolerance``: 256 ε on a first step (ε = 2⁻⁵² in
    float64, 2⁻²³ in float32), 1e-9 and 1e-4 of the array's largest value after more steps."""
    assert TOLERANCE == {("float64", FIRST_STEP): 256 * 2.0**-52, ("float64", AFTER_STEPS): 1e-9,
                         ("float32", FIRST_STEP): 256 * 2.0**-23, ("float32", AFTER_STEPS): 1e-4}
