"""The simulation clock: SimPy's environment, able to jump straight to the next arrival."""
from __future__ import annotations

from heapq import heappush

import simpy
from simpy.events import NORMAL


class _Call:
    """A scheduled call: what ``Environment.step`` needs of an event (``callbacks``, ``_ok``)
    and nothing more, so a county's millions of later steps cost no ``Timeout`` each."""

    __slots__ = ("callbacks", "fn", "a", "b")
    _ok = True

    def __init__(self, fn, a, b):
        self.callbacks = (_run,)
        self.fn, self.a, self.b = fn, a, b


def _run(call: _Call) -> None:
    call.fn(call.a, call.b)


class Clock(simpy.Environment):
    """A SimPy environment that can move straight to the next arrival when nothing else is due
    before it: the same order of events as a Timeout, without scheduling one."""

    def fast_forward(self, t: float) -> bool:
        """Be at ``t`` if no event is due at or before it (True, also when ``t`` is not later
        than now); else leave time alone (False: the caller waits with a Timeout)."""
        if t <= self._now:
            return True
        queue = self._queue
        if queue and queue[0][0] <= t:
            return False
        self._now = t  # SimPy has no public setter; stepping without an event is exactly this
        return True

    def call_later(self, delay: float, fn, a, b) -> None:
        """Call ``fn(a, b)`` after ``delay``: the same place in SimPy's event order as a
        ``Timeout(delay)`` made now with that callback (same time, priority and event id)."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), _Call(fn, a, b)))

    def call_from(self, start: float, delay: float, fn, a, b) -> None:
        """``call_later`` as made at ``start`` (not later than any event already due): a compiled
        run of steps schedules what it started once it returns, in the order it started them."""
        heappush(self._queue, (start + delay, NORMAL, next(self._eid), _Call(fn, a, b)))

    def next_due(self) -> float:
        """Time of the next queued event (infinity when none): what ``fast_forward`` compares with."""
        return self._queue[0][0] if self._queue else float("inf")

    def move_to(self, t: float) -> None:
        """Be at ``t``, which a compiled step has checked as ``fast_forward`` would (no event due
        at or before it, or not later than now)."""
        if t > self._now:
            self._now = t
