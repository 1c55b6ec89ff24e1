"""Compiled look-ups in sorted arrays, for numba loops that replace numpy's ``searchsorted``."""
from __future__ import annotations

import numpy as np

from sim.core.jit import njit

SHORT = 64  # up to this many values a branch-free count beats a binary search (measured)


@njit(cache=True, inline="always")
def count_at_or_below(sorted_values, x):
    """``np.searchsorted(sorted_values, x, side="right")`` for one value ``x`` (not NaN): how
    many values are at or below it."""
    n = len(sorted_values)
    if n <= SHORT:
        k = 0
        for v in sorted_values:
            k += v <= x
        return k
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def guide_table(sorted_values: np.ndarray, buckets: int) -> np.ndarray:
    """Where a search for any ``x`` in ``[j / buckets, (j + 1) / buckets)`` can start: entry ``j``
    is how many values are at or below ``j / buckets`` (Chen and Asau's indexed search)."""
    return np.searchsorted(sorted_values, np.arange(buckets) / buckets, side="right").astype(np.int64)


@njit(cache=True, inline="always")
def count_at_or_below_guided(sorted_values, guide, x):
    """``count_at_or_below(sorted_values, x)`` for ``x`` in [0, 1) in a step or two from ``guide``
    (``guide_table``), however many values there are: a county's village, drawn for every
    arrival, costs the same in a county of 2,000 villages as in one of 20.  Exact whatever the
    rounding of ``j / buckets``: the count is moved down, then up, to where it belongs."""
    n, m = len(sorted_values), len(guide)
    j = int(x * m)
    k = guide[min(max(j, 0), m - 1)]
    while k > 0 and sorted_values[k - 1] > x:
        k -= 1
    while k < n and sorted_values[k] <= x:
        k += 1
    return k


@njit(cache=True)
def stable_order(x):
    """``np.argsort(x, kind="stable")`` for a float array: by buckets of equal width (a counting
    sort), then an insertion sort that moves an element only past strictly greater ones.  The
    stable order is unique, so this is numpy's to the element; on a day's arrival times, which
    spread evenly, it takes a fraction of a merge sort's time (whose branches a processor cannot
    predict on random data).  NaN or infinite values, or a range a float cannot scale: a merge sort."""
    n = len(x)
    if n < 2:
        return np.arange(n)
    lo, hi = x[0], x[0]
    for v in x:
        if not np.isfinite(v):
            return np.argsort(x, kind="mergesort")
        lo, hi = min(lo, v), max(hi, v)
    if hi == lo:
        return np.arange(n)
    scale = n / (hi - lo)
    if not (np.isfinite(hi - lo) and np.isfinite(scale)):  # a range too wide or too narrow for buckets
        return np.argsort(x, kind="mergesort")
    bucket = np.empty(n, dtype=np.int64)
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        b = min(int((x[i] - lo) * scale), n - 1)  # monotone in x: buckets are in order
        bucket[i] = b
        start[b + 1] += 1
    for b in range(n):
        start[b + 1] += start[b]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[start[bucket[i]]] = i
        start[bucket[i]] += 1
    for i in range(1, n):
        j, k = i, order[i]
        while j > 0 and x[order[j - 1]] > x[k]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = k
    return order
