"""The simulation clock: SimPy's environment, able to jump straight to the next arrival."""
from __future__ import annotations

from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL, URGENT


class _Call:
    """A scheduled call: what ``Environment.step`` needs of an event (``callbacks``, ``_ok``)
    and nothing more, so a county's millions of later steps cost no ``Timeout`` each."""

    __slots__ = ("callbacks", "fn", "a", "b")
    _ok = True

    def __init__(self, fn, a, b):
        self.callbacks = (_run,)
        self.fn, self.a, self.b = fn, a, b


class _Release(_Call):
    """The start of a day with parked calls: puts them into SimPy's queue."""

    __slots__ = ()


def _run(call: _Call) -> None:
    call.fn(call.a, call.b)


class Clock(simpy.Environment):
    """A SimPy environment that can move straight to the next arrival when nothing else is due
    before it: the same order of events as a Timeout, without scheduling one.

    A later call due on a later day waits in that day's list, outside SimPy's queue, with the
    time, priority and event id it was given when made, and enters the queue when its day starts
    (an urgent entry at the day's first instant, before anything due that day): the order of events
    is the queue's total order on (time, priority, id), so it does not depend on when an entry
    joined.  Most pending calls are return visits days ahead; kept out, they no longer make every
    push and pop of the day's events walk a queue several times deeper than the day's."""

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self._parked: dict[int, list] = {}  # day → queue entries due that day, not yet in the queue

    def _release(self, day: int, _unused=None) -> None:
        queue = self._queue
        for entry in self._parked.pop(day):
            heappush(queue, entry)

    def fast_forward(self, t: float) -> bool:
        """Be at ``t`` if no event is due at or before it (True, also when ``t`` is not later
        than now); else leave time alone (False: the caller waits with a Timeout)."""
        if t <= self._now:
            return True
        queue = self._queue
        while queue and queue[0][0] <= t:
            head = queue[0][3]
            if head.__class__ is not _Release:
                return False
            heappop(queue)  # a day starting before t: its calls join the queue now (same order)
            self._release(head.a)
        self._now = t  # SimPy has no public setter; stepping without an event is exactly this
        return True

    def call_later(self, delay: float, fn, a, b) -> None:
        """Call ``fn(a, b)`` after ``delay``: the same place in SimPy's event order as a
        ``Timeout(delay)`` made now with that callback (same time, priority and event id)."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        t = self._now + delay
        entry = (t, NORMAL, next(self._eid), _Call(fn, a, b))
        day = int(t)
        if day <= self._now:
            heappush(self._queue, entry)
            return
        parked = self._parked.get(day)
        if parked is None:
            parked = self._parked[day] = []
            heappush(self._queue, (float(day), URGENT, next(self._eid), _Release(self._release, day, None)))
        parked.append(entry)
