"""The clock's shortcuts keep SimPy's order of events exactly."""
from __future__ import annotations

import random

import pytest
from simpy.events import Timeout

from sim.core.clock import Clock


def _order(use_call_later: bool, seed: int = 3) -> list[tuple[float, int]]:
    """Events with many exact ties in time, scheduled from callbacks as the pathway does."""
    env, rng, seen = Clock(), random.Random(seed), []

    def step(k: int, depth: int) -> None:
        seen.append((env.now, k))
        if depth < 3:
            for j in range(2):
                later(float(rng.randint(0, 3)), step, 10 * k + j, depth + 1)

    def later(delay, fn, a, b):
        if use_call_later:
            env.call_later(delay, fn, a, b)
        else:
            Timeout(env, delay).callbacks.append(lambda _ev: fn(a, b))

    def arrivals():
        for k, t in enumerate(sorted(rng.randint(0, 20) * 0.5 for _ in range(30))):
            if not env.fast_forward(t):
                yield Timeout(env, t - env.now)
            step(k, 0)

    env.process(arrivals())
    env.run()
    return seen


def test_call_later_orders_events_as_a_timeout_does():
    for seed in range(5):
        assert _order(True, seed) == _order(False, seed)


def test_fast_forward_waits_for_an_event_due_first():
    env = Clock()
    env.call_later(2.0, lambda a, b: None, None, None)
    assert env.fast_forward(1.5) and env.now == 1.5
    assert env.fast_forward(1.0) and env.now == 1.5  # not later than now: nothing to do
    assert not env.fast_forward(2.0) and env.now == 1.5  # an event is due at 2.0: the caller waits


def test_call_later_refuses_a_negative_delay():
    with pytest.raises(ValueError, match="negative delay"):
        Clock().call_later(-1.0, lambda a, b: None, None, None)


def test_calls_due_on_later_days_wait_outside_the_queue_until_their_day():
    env, ran = Clock(), []
    for delay in (2.5, 0.5, 1.0, 2.0, 1.25):
        env.call_later(delay, lambda a, b: ran.append((env.now, a)), delay, None)
    assert len(env._queue) == 3  # today's call and one entry for each later day (1 and 2)
    env.run()
    assert ran == [(0.5, 0.5), (1.0, 1.0), (1.25, 1.25), (2.0, 2.0), (2.5, 2.5)]


def test_fast_forward_past_a_day_start_brings_in_that_days_calls():
    env = Clock()
    env.call_later(1.5, lambda a, b: None, None, None)
    assert env.fast_forward(1.2) and env.now == 1.2  # day 1 began: its call is queued, due later
    assert len(env._queue) == 1
    assert not env.fast_forward(1.6) and env.now == 1.2  # the call at 1.5 comes first
