"""A first-come-first-served station with c identical servers (doctors or beds).

Waits follow the Kiefer-Wolfowitz recursion: an arrival starts at the earliest moment a server
is free.  This gives exactly the waits of a ``simpy.Resource`` of capacity c with requests in
arrival order (tests/test_station.py checks this), without scheduling request and release
events — a county-year has millions of visits.  Calls must come in time order, which the SimPy
clock guarantees.
"""
from __future__ import annotations

import heapq
from collections import deque


class Station:
    __slots__ = ("capacity", "_free", "_starts", "busy_time")

    def __init__(self, capacity: int | None):
        """``capacity`` None means unlimited: no queue, departures kept only to count occupancy."""
        self.capacity = capacity
        self._free = [0.0] * capacity if capacity else []
        self._starts: deque[float] = deque()
        self.busy_time = 0.0

    def serve(self, now: float, duration: float) -> float:
        """Admit an arrival at ``now`` needing ``duration``; return its wait."""
        self.busy_time += duration
        if self.capacity is None:
            heapq.heappush(self._free, now + duration)
            return 0.0
        free = self._free[0]
        if free > now:
            heapq.heapreplace(self._free, free + duration)
            self._starts.append(free)
            return free - now
        heapq.heapreplace(self._free, now + duration)
        return 0.0

    def queue_length(self, now: float) -> int:
        """Arrivals so far still waiting at ``now``."""
        starts = self._starts
        while starts and starts[0] <= now:
            starts.popleft()
        return len(starts)

    def in_system(self, now: float) -> int:
        """Waiting plus in service at ``now``."""
        if self.capacity is None:
            while self._free and self._free[0] <= now:
                heapq.heappop(self._free)
            return len(self._free)
        return sum(1 for f in self._free if f > now) + self.queue_length(now)
