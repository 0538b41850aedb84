"""The one comparison: backends against a named reference backend, number by number.

``Comparison(reference, result, ...)`` holds the reference backend's result; ``add(name,
result)`` compares another backend's with it, quantity by quantity and element by element, and
``add_array`` does the same for any two arrays (the rules report's measurements). A number
agrees when ``|a − b| ≤ tolerance × scale`` (``crosscheck/compare/tolerances.py`` says which
tolerance and which scale); the comparison keeps the largest absolute difference, the number
furthest past its tolerance (or, when every number agrees, nearest to it) as a
``Disagreement`` that says where, and, for stacks of networks, each network's worst ratio.

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


class Comparison:
    """Every backend added, against the reference backend's result."""

    def __init__(self, reference: str, result: Result | None = None, *, quantities=(),
                 dtype: str = "float64", steps: int = 1, scales: Result | None = None,
                 stacked: bool = False):
        self.reference, self.result = reference, result
        self.quantities, self.dtype, self.steps = tuple(quantities), dtype, steps
        self.scales, self.stacked = scales, stacked
        self.max_abs_diff = 0.0
        self.worst: Disagreement | None = None
        self.per_network: np.ndarray | None = None
        self.compared = self.differing = 0       # numbers compared, and past their tolerance

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
                self.add_array(name, place, ref, other, tol, scale)

    def _scales(self, quantity: Quantity, count: int) -> list:
        """Per array, the magnitude of its terms, or None for the array's own largest value."""
        if self.scales is None or phase(quantity, self.steps) != FIRST_STEP:
            return [None] * count
        return [array for _, array in quantity.leaves(quantity.value(self.scales, 0.0))]

    def add_array(self, name: str, place: Place, ref, other, tol: float, scale=None) -> None:
        """Compare one array of backend ``name`` with the reference's (first axis: the
        networks, for a stack); ``scale`` defaults to the reference array's largest value."""
        if ref is None and other is None:
            return
        if (ref is None) != (other is None) or np.shape(ref) != np.shape(other):
            problem = ("reported by only one of them" if ref is None or other is None
                       else f"shape {np.shape(ref)} against {np.shape(other)}")
            return self._fold(Disagreement(place, (self.reference, name), (math.nan, math.nan),
                                           math.inf, 0.0, tol, problem=problem), math.inf)
        ref, other = np.asarray(ref, np.float64), np.asarray(other, np.float64)
        diff, finite = _differences(ref, other)
        magnitude = np.abs(ref) if finite else np.where(np.isfinite(ref), np.abs(ref), 0.0)
        scale = _own_scale(magnitude, self.stacked) if scale is None else np.maximum(scale,
                                                                                  magnitude)
        excess = _excess(diff, scale, tol, TINY[self.dtype])
        self._count(diff, excess)
        if excess.size:
            k = int(np.argmax(excess))
            index = np.unravel_index(k, ref.shape)
            network, index = (int(index[0]), index[1:]) if self.stacked else (None, index)
            self._fold(Disagreement(place.at(index), (self.reference, name),
                                    (float(ref.flat[k]), float(other.flat[k])),
                                    float(diff.flat[k]), float(scale.flat[k]), tol, network),
                       float(excess.flat[k]))

    def _count(self, diff, excess) -> None:
        """The largest difference, how many numbers differ, and each network's worst."""
        if diff.size:
            largest = diff.max()
            self.max_abs_diff = max(self.max_abs_diff, float(
                largest if np.isfinite(largest) else np.max(diff, where=np.isfinite(diff),
                                                            initial=0.0)))
        self.compared += excess.size
        self.differing += int(np.count_nonzero(excess > 1))
        if self.stacked:
            per = excess.reshape(excess.shape[0], int(np.prod(excess.shape[1:])))
            worst = per.max(axis=1, initial=0.0)
            self.per_network = worst if self.per_network is None else np.maximum(
                self.per_network, worst)

    def _fold(self, found: Disagreement, excess: float) -> None:
        if self.stacked and found.problem:
            self.per_network = np.full(self._networks(), math.inf)
        if self.worst is None or excess > self.worst.excess:
            self.worst = found

    def _networks(self) -> int:
        return len(np.atleast_1d(self.result.loss_before))


def _differences(ref, other):
    """(|a − b|, whether everything is finite), with two equal non-finite numbers (both NaN,
    the same infinity) differing by 0 and a non-finite number against a finite one by
    infinity."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(ref - other)
    if np.isfinite(diff).all():          # then both are finite everywhere: the common case
        return diff, True
    same = (ref == other) | (np.isnan(ref) & np.isnan(other))
    both_finite = np.isfinite(ref) & np.isfinite(other)
    return np.where(same, 0.0, np.where(both_finite, diff, np.inf)), False


def _own_scale(magnitude, stacked: bool):
    """The largest magnitude of the array (of each network's part, for a stack)."""
    if stacked and magnitude.ndim:
        flat = magnitude.reshape(magnitude.shape[0], int(np.prod(magnitude.shape[1:]))).max(
            axis=1, initial=0.0)
        return np.broadcast_to(flat.reshape((-1,) + (1,) * (magnitude.ndim - 1)),
                               magnitude.shape)
    return np.broadcast_to(magnitude.max(initial=0.0), magnitude.shape)


def _excess(diff, scale, tol, tiny):
    """diff / (tol × scale), elementwise. What is allowed is never below the dtype's smallest
    normal number: below it floating point has no relative precision left (and a backend may
    flush such numbers to zero), so smaller differences are no differences; a larger one
    against a zero scale is a disagreement."""
    with np.errstate(invalid="ignore"):
        excess = diff / np.maximum(tol * scale, tiny)
    return np.where(np.isnan(excess), np.inf, excess)     # infinite against infinite scale
