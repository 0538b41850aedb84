"""The one comparison: backends against a named reference backend, number by number.

``Comparison(reference, result, ...)`` holds the reference backend's result; ``add(name,
result)`` compares another backend's with it, quantity by quantity and element by element, and
``add_array`` does the same for any two arrays (the rules report's measurements). A number
agrees when ``|a − b| ≤ tolerance × scale`` (``crosscheck/compare/tolerances.py`` says which
tolerance and which scale); the comparison keeps the largest absolute difference, the number
furthest past its tolerance (or, when every number agrees, nearest to it) as a
``Disagreement`` that says where, and, for stacks of networks, each network's worst ratio.
What each number of the reference may differ by is computed once, for every backend compared
with it. A stack's arrays may also come as some of their entries only (``Entries``: the real
numbers of ``crosscheck sweep``'s padded stacks), each network's one after another.

Two non-finite numbers agree when they are the same (both NaN, or the same infinity): a run that
blows up on both backends alike is not a disagreement between them. A number that is finite on
one backend only, an array that only one reports, or arrays of different shapes, never agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crosscheck.compare.quantities import Place, Quantity, Result
from crosscheck.compare.tolerances import FIRST_STEP, phase, tolerance

# The smallest normal number of each dtype (see _excess).
TINY = {dtype: float(np.finfo(dtype).tiny) for dtype in ("float64", "float32")}


@dataclass(frozen=True)
class Disagreement:
    """One number compared: where, on which pair of backends, both values, and by how much."""

    place: Place
    backends: tuple[str, str]            # (reference, other)
    values: tuple[float, float]
    abs_diff: float
    scale: float
    tolerance: float
    network: int | None = None           # its network, in a stack
    problem: str = ""                    # why nothing could be compared number by number

    @property
    def rel_diff(self) -> float:
        """The difference relative to the number's scale."""
        if self.abs_diff == 0:
            return 0.0
        return self.abs_diff / self.scale if self.scale > 0 else math.inf

    @property
    def excess(self) -> float:
        """The difference in units of what is allowed: above 1 is a disagreement."""
        return self.rel_diff / self.tolerance if self.tolerance > 0 else \
            (0.0 if self.rel_diff == 0 else math.inf)

    def __str__(self) -> str:
        where = str(self.place) + ("" if self.network is None else f" of network {self.network}")
        a, b = self.backends
        if self.problem:
            return f"{where} ({self.problem}), on {a} and {b}"
        return (f"{where}: {a} = {self.values[0]!r}, {b} = {self.values[1]!r}, difference "
                f"{self.abs_diff:.3g} (relative {self.rel_diff:.3g} "
                f"{'>' if self.excess > 1 else '<='} {self.tolerance:g})")


class Entries:
    """Some entries of a stacked array of ``shape`` (first axis: the networks), compared as a
    1-D array of their own: those at the flat ``positions``, ascending, so network by network.

    For a stack of 2 networks of shape (2, 2, 3) whose first rows only are real, ``positions``
    is [0, 1, 2, 6, 7, 8]: network 0 holds entries 0–2 of the 1-D array and network 1 entries
    3–5; entry 4 is ``shape``'s index (1, 0, 1)."""

    def __init__(self, shape: tuple[int, ...], positions: np.ndarray):
        self.shape, self.positions = tuple(shape), positions
        block = math.prod(self.shape[1:])
        starts = np.searchsorted(positions, np.arange(self.shape[0]) * block)
        self.counts = np.diff(starts, append=len(positions))
        self.firsts = starts[self.counts > 0]

    def per_network(self, values: np.ndarray) -> np.ndarray:
        """(networks,) the largest of each network's ``values`` (non-negative), 0 for none."""
        per = np.zeros(self.shape[0])
        if len(values):
            per[self.counts > 0] = np.maximum.reduceat(values, self.firsts)
        return per

    def index(self, entry: int) -> tuple[int, ...]:
        """The index in ``shape`` of the 1-D array's ``entry``."""
        return np.unravel_index(self.positions[entry], self.shape)


class Comparison:
    """Every backend added, against the reference backend's result."""

    def __init__(self, reference: str, result: Result | None = None, *, quantities=(),
                 dtype: str = "float64", steps: int = 1, scales: Result | None = None,
                 stacked: bool = False, entries: dict | None = None):
        self.reference, self.result = reference, result
        self.entries = entries or {}             # per place of a stack, the Entries it holds
        self.quantities, self.dtype, self.steps = tuple(quantities), dtype, steps
        self.scales, self.stacked = scales, stacked
        self.max_abs_diff = 0.0
        self.worst: Disagreement | None = None
        self.per_network: np.ndarray | None = None
        self.compared = self.differing = 0       # numbers compared, and past their tolerance
        self._allowances: dict = {}              # per place: _allowed of the reference's array

    @property
    def agree(self) -> bool:
        return self.worst is None or self.worst.excess <= 1

    @property
    def disagreement(self) -> Disagreement | None:
        """The worst number, if it is past its tolerance."""
        return None if self.agree else self.worst

    def add(self, name: str, result: Result) -> None:
        """Compare every array of every quantity of ``result`` with the reference's."""
        for quantity in self.quantities:
            if quantity.optional and (quantity.value(self.result, 0.0) is None
                                      or quantity.value(result, 0.0) is None):
                continue            # a backend without the optional function: nothing to compare
            tol = tolerance(self.dtype, quantity, self.steps)
            refs = list(quantity.leaves(quantity.value(self.result, 0.0)))
            others = list(quantity.leaves(quantity.value(result, 0.0)))
            if len(refs) != len(others):
                problem = f"{len(refs)} arrays against {len(others)}"
                self._fold(Disagreement(Place(quantity.key), (self.reference, name),
                                        (math.nan, math.nan), math.inf, 0.0, tol,
                                        problem=problem), math.inf)
                continue
            for (place, ref), (_, other), scale in zip(refs, others, self._scales(quantity,
                                                                                  len(refs))):
                self.add_array(name, place, ref, other, tol, scale, self.entries.get(place))

    def _scales(self, quantity: Quantity, count: int) -> list:
        """Per array, the magnitude of its terms, or None for the array's own largest value."""
        if self.scales is None or phase(quantity, self.steps) != FIRST_STEP:
            return [None] * count
        return [array for _, array in quantity.leaves(quantity.value(self.scales, 0.0))]

    def add_array(self, name: str, place: Place, ref, other, tol: float, scale=None,
                  entries: Entries | None = None) -> None:
        """Compare one array of backend ``name`` with the reference's (first axis: the
        networks, for a stack, or the ``entries`` of one); ``scale`` defaults to the reference
        array's largest value (of each network's part, for a stack)."""
        if ref is None and other is None:
            return
        if (ref is None) != (other is None) or np.shape(ref) != np.shape(other):
            problem = ("reported by only one of them" if ref is None or other is None
                       else f"shape {np.shape(ref)} against {np.shape(other)}")
            return self._fold(Disagreement(place, (self.reference, name), (math.nan, math.nan),
                                           math.inf, 0.0, tol, problem=problem), math.inf)
        values = np.asarray(ref, np.float64), np.asarray(other, np.float64)
        diff, finite, largest = _differences(*values)
        stacked = entries or self.stacked
        scale, allowed = self._allowed(place, ref, scale, tol, stacked) if finite else \
            _allowed(values[0], scale, tol, False, stacked, TINY[self.dtype])
        excess = _excess(diff, allowed, finite)
        worst = self._count(excess, largest, entries)
        if worst is not None:
            ref, other = values
            index = np.unravel_index(worst, ref.shape) if entries is None else \
                entries.index(worst)
            network, index = (int(index[0]), index[1:]) if self.stacked else (None, index)
            self._fold(Disagreement(place.at(index), (self.reference, name),
                                    (float(ref.flat[worst]), float(other.flat[worst])),
                                    float(diff.flat[worst]), float(scale.flat[worst]), tol,
                                    network), float(excess.flat[worst]))

    def _allowed(self, place: Place, ref, scale, tol: float, stacked):
        """``_allowed`` for the reference's array at ``place`` (finite everywhere), computed
        once for every backend compared with it."""
        key = (place, tol)
        cached = self._allowances.get(key)
        if cached is None or cached[0] is not ref or cached[1] is not scale:
            cached = self._allowances[key] = (ref, scale, *_allowed(
                np.asarray(ref, np.float64), scale, tol, True, stacked, TINY[self.dtype]))
        return cached[2:]

    def _count(self, excess, largest: float, entries: Entries | None) -> int | None:
        """The largest (finite) difference, how many numbers differ, and each network's worst;
        return the flat index of the worst number (None for an empty array)."""
        self.max_abs_diff = max(self.max_abs_diff, largest)
        self.compared += excess.size
        if self.stacked:
            if entries is not None:
                worst = entries.per_network(excess)
            else:
                per = excess.reshape(excess.shape[0], int(np.prod(excess.shape[1:])))
                worst = per.max(axis=1, initial=0.0)
            self.per_network = worst if self.per_network is None else np.maximum(
                self.per_network, worst)
        if not excess.size:
            return None
        if entries is not None:
            found = int(np.argmax(excess))
        elif self.stacked:
            network = int(np.argmax(worst))
            found = network * per.shape[1] + int(np.argmax(per[network]))
        else:
            found = int(np.argmax(excess))
        if excess.flat[found] > 1:
            self.differing += int(np.count_nonzero(excess > 1))
        return found

    def _fold(self, found: Disagreement, excess: float) -> None:
        if self.stacked and found.problem:
            self.per_network = np.full(self._networks(), math.inf)
        if self.worst is None or excess > self.worst.excess:
            self.worst = found

    def _networks(self) -> int:
        if self.entries:
            return next(iter(self.entries.values())).shape[0]
        return len(np.atleast_1d(self.result.loss_before))


def _differences(ref, other):
    """(|a − b|, whether everything is finite, the largest finite difference), with two equal
    non-finite numbers (both NaN, the same infinity) differing by 0 and a non-finite number
    against a finite one by infinity."""
    with np.errstate(invalid="ignore"):
        diff = np.asarray(np.subtract(ref, other))
    np.abs(diff, out=diff)
    largest = float(diff.max()) if diff.size else 0.0
    if math.isfinite(largest):          # then both are finite everywhere: the common case
        return diff, True, largest
    same = (ref == other) | (np.isnan(ref) & np.isnan(other))
    both_finite = np.isfinite(ref) & np.isfinite(other)
    largest = float(np.max(diff, where=both_finite, initial=0.0))
    return np.where(same, 0.0, np.where(both_finite, diff, np.inf)), False, largest


def _allowed(ref, scale, tol: float, finite: bool, stacked, tiny: float):
    """(each number's scale, what it may differ by). Its scale is ``scale`` or, if larger, the
    reference's own magnitude (its finite magnitude unless ``finite``); with no ``scale``, the
    largest magnitude of the array (of each network's part, for a stack: ``stacked`` True or
    the array's Entries). It may differ by tol × its scale, never less than the dtype's
    smallest normal number ``tiny``: below it floating point has no relative precision left
    (and a backend may flush such numbers to zero), so smaller differences are no
    differences."""
    magnitude = np.asarray(np.abs(ref) if finite else
                           np.where(np.isfinite(ref), np.abs(ref), 0.0))
    # The maximum and the product written in place: arrays of 17 MB in a sweep.
    scale = _own_scale(magnitude, stacked) if scale is None else np.maximum(
        scale, magnitude, out=magnitude)
    allowed = np.asarray(np.multiply(scale, tol))
    return scale, np.maximum(allowed, tiny, out=allowed)


def _own_scale(magnitude, stacked):
    """The largest magnitude of the array (of each network's part, for a stack)."""
    if isinstance(stacked, Entries):
        return np.repeat(stacked.per_network(magnitude), stacked.counts)
    if stacked and magnitude.ndim:
        flat = magnitude.reshape(magnitude.shape[0], int(np.prod(magnitude.shape[1:]))).max(
            axis=1, initial=0.0)
        return np.broadcast_to(flat.reshape((-1,) + (1,) * (magnitude.ndim - 1)),
                               magnitude.shape)
    return np.broadcast_to(magnitude.max(initial=0.0), magnitude.shape)


def _excess(diff, allowed, finite: bool):
    """diff / allowed, elementwise: above 1 is a disagreement. A difference against an
    infinite allowance (an infinite scale) is infinite where it is itself infinite or NaN."""
    if finite:
        return np.divide(diff, allowed)
    with np.errstate(invalid="ignore"):
        excess = diff / allowed
    return np.where(np.isnan(excess), np.inf, excess)
