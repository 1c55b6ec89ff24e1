"""The simulation clock: SimPy's environment, able to jump straight to the next arrival."""
from __future__ import annotations

from heapq import heappop, heappush
from itertools import count

import simpy
from simpy.events import NORMAL, Event


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

    # ------------------------------------------------------------------ for compiled steps
    # A compiled run of steps (sim/compiled_steps.py) hands out SimPy's event ids itself, in the
    # order the steps would have scheduled their events, and schedules those events afterwards:
    # every event keeps the time, priority and id it would have had, so the order is the same.
    def take_event_id(self) -> int:
        return next(self._eid)

    def resume_event_ids(self, next_id: int) -> None:
        self._eid = count(next_id)

    def call_at(self, when: float, event_id: int, fn, a, b) -> None:
        """``call_later`` scheduled with a time and event id handed out by a compiled step."""
        heappush(self._queue, (when, NORMAL, event_id, _Call(fn, a, b)))

    def timeout_at(self, when: float, event_id: int) -> Event:
        """The ``Timeout`` a compiled step has made (time and event id), to be yielded."""
        event = Event(self)
        event._ok, event._value = True, None
        heappush(self._queue, (when, NORMAL, event_id, event))
        return event

    def run_next_call(self, skip) -> bool:
        """If the next queued event is a scheduled call (``call_later``, ``call_at``), take it and
        make the call now, as ``step`` would (True); calls to ``skip`` are dropped unmade.  A
        process that has found this event due before the time it waits for can so let it
        happen without yielding to SimPy."""
        if not self._queue:
            return False
        when, _, _, call = self._queue[0]
        if type(call) is not _Call:
            return False
        heappop(self._queue)
        if call.fn is not skip:
            self._now = when
            call.fn(call.a, call.b)
        return True

    def head(self) -> tuple:
        """(time, priority, event id, event) of the next queued event, or None."""
        return self._queue[0] if self._queue else None

    def drop_head(self) -> None:
        heappop(self._queue)

    def discard_pending(self) -> None:
        """Forget the events still scheduled when a run is over (the next day's tick, the next
        arrival).  A waiting process and the event it waits for hold each other (its ``_resume``
        is among the event's callbacks), and the process's frame holds what it belongs to: only
        a full collection would free them.  Emptying the callbacks breaks the cycle."""
        for *_, event in self._queue:
            if getattr(event, "callbacks", None) is not None:
                event.callbacks = None  # SimPy's mark of an event that will not call anyone back
        self._queue.clear()

    def move_to(self, t: float) -> None:
        """Be at ``t``, which a compiled step has checked as ``fast_forward`` would (no event due
        at or before it, or not later than now)."""
        if t > self._now:
            self._now = t
