"""A first-come-first-served station with c identical servers (doctors or beds).

Waits follow the Kiefer-Wolfowitz recursion: an arrival starts at the earliest moment a server
it may use is free.  With no reserved servers this gives exactly the waits of a
``simpy.Resource`` of capacity c with requests in arrival order (tests/test_station.py checks
this), without scheduling request and release events — a county-year has millions of visits.
Calls must come in time order, which the SimPy clock guarantees.

``reserved`` servers serve only priority arrivals (family-doctor referrals); a priority
arrival takes whichever server, reserved or general, frees first.
"""
from __future__ import annotations

import heapq
from heapq import heapreplace

import numpy as np

from sim.core.jit import njit


class Station:
    __slots__ = ("capacity", "reserved", "track", "_free", "_held", "_starts", "busy_time")

    def __init__(self, capacity: int | None, reserved: int = 0, track_queue: bool = True):
        """``capacity`` None means unlimited: no queue.  ``track_queue`` keeps what
        ``queue_length`` and ``in_system`` need (for balking and sampling); off, it saves memory."""
        if capacity is not None and not 0 <= reserved < max(capacity, 1):
            raise ValueError(f"reserved servers must be in [0, {capacity - 1}], got {reserved}")
        self.capacity = capacity
        self.track = track_queue
        self.reserved = reserved if capacity else 0
        general = (capacity or 0) - self.reserved
        self._free = [0.0] * general  # heap of times the general servers free up
        self._held = [0.0] * self.reserved  # heap for the reserved servers
        self._starts: list[float] = []  # heap of start times of arrivals still waiting
        self.busy_time = 0.0

    def serve(self, now: float, duration: float, priority: bool = False) -> float:
        """Admit an arrival at ``now`` needing ``duration``; return its wait."""
        self.busy_time += duration
        if self.capacity is None:
            if self.track:
                heapq.heappush(self._free, now + duration)
            return 0.0
        pool = self._free
        if priority and self._held and (not pool or self._held[0] <= pool[0]):
            pool = self._held
        free = pool[0]
        if free > now:
            heapreplace(pool, free + duration)
            if self.track:
                heapq.heappush(self._starts, free)
            return free - now
        heapreplace(pool, now + duration)
        return 0.0

    def resize(self, capacity: int | None, reserved: int, now: float) -> None:
        """Change the number of servers at ``now``.  Added servers are free from ``now``; removed
        ones are those that free up last: they finish the work already given to them, then leave."""
        times = _kept_servers(self.capacity, capacity, reserved, now, self._free + self._held)
        if times is None:
            return
        general = capacity - (reserved if capacity else 0)
        self._free, self._held = times[:general], times[general:]
        heapq.heapify(self._free)
        heapq.heapify(self._held)
        self.capacity, self.reserved = capacity, reserved if capacity else 0

    def wait_for(self, now: float, priority: bool = False) -> float:
        """The wait ``serve`` would give an arrival now, without serving it (inf: no server)."""
        if self.capacity is None:
            return 0.0
        pool = self._free
        if priority and self._held and (not pool or self._held[0] <= pool[0]):
            pool = self._held
        return max(pool[0] - now, 0.0) if pool else float("inf")

    def would_wait(self, now: float, priority: bool = False) -> bool:
        """Whether an arrival now finds every server it may use busy."""
        return self.wait_for(now, priority) > 0

    def queue_length(self, now: float) -> int:
        """Arrivals so far still waiting at ``now``."""
        starts = self._starts
        while starts and starts[0] <= now:
            heapq.heappop(starts)
        return len(starts)

    def in_system(self, now: float) -> int:
        """Waiting plus in service at ``now``."""
        if self.capacity is None:
            while self._free and self._free[0] <= now:
                heapq.heappop(self._free)
            return len(self._free)
        busy = sum(1 for f in self._free if f > now) + sum(1 for f in self._held if f > now)
        return busy + self.queue_length(now)


@njit(cache=True, inline="always")
def wait_in_bank(free: np.ndarray, servers: np.ndarray, held: np.ndarray, station: int, now: float,
                 priority: bool) -> float:
    """The wait ``serve_in_bank`` would give an arrival now, without serving it."""
    c = servers[station]
    if c < 0:
        return 0.0
    row = free[station]
    first = row[c] if priority and held[station] > 0 and row[c] <= row[0] else row[0]
    return first - now if first > now else 0.0


@njit(cache=True, inline="always")
def serve_in_bank(free: np.ndarray, servers: np.ndarray, held: np.ndarray, busy: np.ndarray, station: int,
                  now: float, duration: float, priority: bool) -> float:
    """``Station.serve`` for a station of a ``StationBank`` (no queue tracking): the general
    server that frees first takes the arrival, or, for a priority arrival, a reserved one when it
    frees no later.  Each pool's free times are kept as a binary min-heap in its part of the row
    (general servers first, then reserved ones), as ``Station`` keeps its lists: a county
    hospital's hundreds of doctors or thousands of beds cost a few steps, not a scan.  Which of
    several equally early servers takes it does not matter: the set of free times, hence every
    wait, is the same."""
    busy[station] += duration
    c = servers[station]
    if c < 0:
        return 0.0
    row = free[station]
    start, size = 0, max(c, 1)
    if priority and held[station] > 0 and row[c] <= row[0]:
        start, size = c, held[station]
    first = row[start]
    wait = 0.0
    if first > now:
        wait = first - now
        _replace_earliest(row, start, size, first + duration)
    else:
        _replace_earliest(row, start, size, now + duration)
    return wait


@njit(cache=True, inline="always")
def _replace_earliest(row: np.ndarray, start: int, size: int, value: float) -> None:
    """``heapq.heapreplace`` on the heap ``row[start:start + size]``: its smallest time becomes
    ``value``, sifted down to its place."""
    j = 0
    while True:
        m = 2 * j + 1
        if m >= size:
            break
        if m + 1 < size and row[start + m + 1] < row[start + m]:
            m += 1
        if not row[start + m] < value:
            break
        row[start + j] = row[start + m]
        j = m
    row[start + j] = value


class StationBank:
    """Many stations' servers in numpy arrays, so compiled code (``sim/compiled_steps.py``) and
    Python steps serve the same queues.  Waits equal ``Station``'s (tests/test_compiled_steps.py);
    only stations without queue tracking can be banked."""

    def __init__(self, capacities: list[int | None], reserved: list[int] | None = None):
        reserved = reserved or [0] * len(capacities)
        self.servers = np.array([-1 if c is None else c - r for c, r in zip(capacities, reserved)], dtype=np.int64)
        self.held = np.array([0 if c is None else r for c, r in zip(capacities, reserved)], dtype=np.int64)
        self.free = np.zeros((len(capacities), max(1, int((np.maximum(self.servers, 0) + self.held).max(initial=0)))))
        self.busy = np.zeros(len(capacities))
        self.stations = [BankedStation(self, i, c, r) for i, (c, r) in enumerate(zip(capacities, reserved))]


class BankedStation:
    """One station of a ``StationBank``, with the ``Station`` calls the pathway makes."""

    __slots__ = ("bank", "index", "capacity", "reserved", "track")

    def __init__(self, bank: StationBank, index: int, capacity: int | None, reserved: int = 0):
        self.bank, self.index, self.capacity, self.reserved, self.track = bank, index, capacity, reserved, False

    def serve(self, now: float, duration: float, priority: bool = False) -> float:
        b = self.bank
        return serve_in_bank(b.free, b.servers, b.held, b.busy, self.index, now, duration, priority)

    def wait_for(self, now: float, priority: bool = False) -> float:
        b = self.bank
        return wait_in_bank(b.free, b.servers, b.held, self.index, now, priority)

    def resize(self, capacity: int | None, reserved: int, now: float) -> None:
        """``Station.resize``: the servers that free up first stay (the earliest go to the general
        pool), added ones are free from ``now``."""
        b, i = self.bank, self.index
        times = _kept_servers(self.capacity, capacity, reserved, now, b.free[i, :b.servers[i] + b.held[i]].tolist())
        if times is None:
            return
        if capacity > b.free.shape[1]:
            b.free = np.pad(b.free, ((0, 0), (0, capacity - b.free.shape[1])))
        general = capacity - (reserved if capacity else 0)
        b.free[i, :general], b.free[i, general:capacity] = sorted(times[:general]), sorted(times[general:])  # heaps
        b.servers[i], b.held[i] = general, capacity - general
        self.capacity, self.reserved = capacity, reserved if capacity else 0

    @property
    def busy_time(self) -> float:
        return float(self.bank.busy[self.index])


def _kept_servers(old: int | None, capacity: int | None, reserved: int, now: float, free_times: list[float]):
    """The free times of a resized station's servers, earliest first (None: unlimited, nothing
    to do); the servers that free up last are the ones removed, added ones are free from ``now``."""
    if (capacity is None) != (old is None):
        raise ValueError("a station cannot switch between limited and unlimited capacity")
    if capacity is None:
        return None
    if not 0 <= reserved < max(capacity, 1):
        raise ValueError(f"reserved servers must be in [0, {capacity - 1}], got {reserved}")
    times = sorted(free_times)
    return times[:capacity] + [now] * max(0, capacity - len(times))
