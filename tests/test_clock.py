"""The clock's shortcuts keep SimPy's order of events exactly."""
from __future__ import annotations

import random

import pytest
from simpy.events import Timeout

from sim.core.clock import Clock


def _order(how: str, seed: int = 3) -> list[tuple[float, int]]:
    """Events with many exact ties in time, scheduled from callbacks as the pathway does: with
    ``call_later``, with a ``Timeout`` each, or ("deferred") with event ids taken in order and
    the calls pushed with ``call_at`` after the callback, in reverse, as compiled steps do."""
    env, rng, seen = Clock(), random.Random(seed), []

    def step(k: int, depth: int) -> None:
        seen.append((env.now, k))
        if depth < 3:
            start, ids = env.now, []
            for j in range(2):
                delay = float(rng.randint(0, 3))
                if how == "deferred":
                    ids.append((delay, env.take_event_id(), 10 * k + j))
                elif how == "call_later":
                    env.call_later(delay, step, 10 * k + j, depth + 1)
                else:
                    Timeout(env, delay).callbacks.append(lambda _ev, a=10 * k + j: step(a, depth + 1))
            if ids:
                env.resume_event_ids(ids[-1][1] + 1)
            for delay, eid, a in reversed(ids):
                env.call_at(start + delay, eid, step, a, depth + 1)

    def arrivals():
        for k, t in enumerate(sorted(rng.randint(0, 20) * 0.5 for _ in range(30))):
            if not env.fast_forward(t):
                if how == "deferred":
                    eid = env.take_event_id()
                    env.resume_event_ids(eid + 1)
                    yield env.timeout_at(env.now + (t - env.now), eid)
                else:
                    yield Timeout(env, t - env.now)
            step(k, 0)

    env.process(arrivals())
    env.run()
    return seen


def test_call_later_orders_events_as_a_timeout_does():
    for seed in range(5):
        assert _order("call_later", seed) == _order("timeout", seed)


def test_fast_forward_waits_for_an_event_due_first():
    env = Clock()
    env.call_later(2.0, lambda a, b: None, None, None)
    assert env.fast_forward(1.5) and env.now == 1.5
    assert env.fast_forward(1.0) and env.now == 1.5  # not later than now: nothing to do
    assert not env.fast_forward(2.0) and env.now == 1.5  # an event is due at 2.0: the caller waits


def test_call_later_refuses_a_negative_delay():
    with pytest.raises(ValueError, match="negative delay"):
        Clock().call_later(-1.0, lambda a, b: None, None, None)


def test_event_ids_handed_out_keep_simpys_order():
    for seed in range(5):
        assert _order("deferred", seed) == _order("timeout", seed)


def test_run_next_call_makes_a_due_call_in_place():
    env, made = Clock(), []
    env.call_later(2.0, lambda a, b: made.append((env.now, a)), "x", None)
    env.timeout(5.0)
    assert env.run_next_call(skip=None) and made == [(2.0, "x")] and env.now == 2.0
    assert not env.run_next_call(skip=None)  # a Timeout is SimPy's to process
