"""The simulation clock: SimPy's environment, able to jump straight to the next arrival."""
from __future__ import annotations

import simpy


class Clock(simpy.Environment):
    """A SimPy environment that can move straight to the next arrival when nothing else is due
    before it: the same order of events as a Timeout, without scheduling one."""

    def fast_forward(self, t: float) -> bool:
        """Advance to ``t`` if no event is due at or before it; else leave time alone."""
        if self.peek() <= t:
            return False
        self._now = t  # SimPy has no public setter; stepping without an event is exactly this
        return True
