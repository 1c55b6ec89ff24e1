"""Issue test 2: sim.core.station.Station is exactly a FCFS simpy.Resource(capacity=c).

A tiny SimPy model (one process per customer, a Resource of capacity c) gives the reference waits
and, at random probe times, the number waiting and the number in the system.  Station must
reproduce them for the same arrival times and service durations: the waits bit for bit (both
compute start = earlier start + duration and wait = start - arrival with the same float
operations), the counts exactly.
"""
from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.station import Station


def _instance(rng: np.random.Generator, n: int, c: int, rho: float, service: str):
    mean_service = 1.0
    arrivals = np.cumsum(rng.exponential(mean_service / (rho * c), n))
    if service == "exponential":
        durations = rng.exponential(mean_service, n)
    else:  # lognormal with a heavy tail, to stress server assignment
        durations = rng.lognormal(-0.5, 1.0, n)
    probes = np.sort(rng.uniform(0, arrivals[-1] + 5.0, 400))
    return arrivals, durations, probes


def _simpy_reference(arrivals, durations, probes, capacity):
    env = simpy.Environment()
    res = simpy.Resource(env, capacity=capacity)
    waits = np.full(len(arrivals), np.nan)
    seen = []

    def customer(i):
        yield env.timeout(arrivals[i])  # from time 0: env.now == arrivals[i] exactly
        with res.request() as req:
            yield req
            waits[i] = env.now - arrivals[i]
            yield env.timeout(durations[i])

    def prober():
        for t in probes:
            yield env.timeout(t - env.now)
            seen.append((len(res.queue), len(res.queue) + res.count))

    for i in range(len(arrivals)):
        env.process(customer(i))
    env.process(prober())
    env.run()
    return waits, np.array(seen)


def _station(arrivals, durations, probes, capacity):
    st = Station(capacity)
    waits = np.empty(len(arrivals))
    seen = []
    events = sorted([(t, 0, i) for i, t in enumerate(arrivals)] + [(t, 1, j) for j, t in enumerate(probes)])
    for t, kind, i in events:  # calls in time order, as the SimPy clock guarantees in the engine
        if kind == 0:
            waits[i] = st.serve(float(t), float(durations[i]))
        else:
            seen.append((st.queue_length(float(t)), st.in_system(float(t))))
    return waits, np.array(seen), st


@pytest.mark.parametrize("service", ["exponential", "lognormal"])
@pytest.mark.parametrize("c", [1, 2, 3, 7])
def test_station_equals_simpy_resource(rng, c, service):
    arrivals, durations, probes = _instance(rng, 3000, c, 0.92, service)
    ref_waits, ref_seen = _simpy_reference(arrivals, durations, probes, c)
    waits, seen, st = _station(arrivals, durations, probes, c)
    assert (ref_waits > 0).mean() > 0.3, "instance should have real queueing"
    assert np.array_equal(waits, ref_waits), f"max |diff| {np.max(np.abs(waits - ref_waits))}"
    assert np.array_equal(seen, ref_seen)
    assert st.busy_time == pytest.approx(durations.sum(), rel=1e-12)


def test_station_unlimited_capacity_never_waits(rng):
    arrivals, durations, probes = _instance(rng, 3000, 5, 0.92, "lognormal")
    n = len(arrivals)
    ref_waits, ref_seen = _simpy_reference(arrivals, durations, probes, n)  # capacity >= customers
    waits, seen, _ = _station(arrivals, durations, probes, None)
    assert np.all(ref_waits == 0)
    assert np.all(waits == 0.0)
    assert np.array_equal(seen[:, 0], np.zeros(len(probes)))
    assert np.array_equal(seen[:, 1], ref_seen[:, 1])
    assert seen[:, 1].max() > 5, "probes should see several patients in service at once"


def test_station_wrong_capacity_differs(rng):
    """Negative control: the comparison above is sensitive to c."""
    arrivals, durations, probes = _instance(rng, 2000, 2, 0.9, "exponential")
    ref_waits, _ = _simpy_reference(arrivals, durations, probes, 2)
    waits, _, _ = _station(arrivals, durations, probes, 3)
    assert not np.allclose(waits, ref_waits)


@settings(max_examples=60, deadline=None)
@given(capacity=st.integers(1, 5), reserved=st.integers(0, 4), seed=st.integers(0, 2**32 - 1))
def test_wait_for_is_the_wait_serve_then_gives(capacity, reserved, seed):
    """``wait_for`` peeks at the wait ``serve`` gives the same arrival (a full hospital's patients
    are sent on by it: referral.full_bed_wait_days), plain and banked, priority or not."""
    from sim.core.station import StationBank

    reserved = min(reserved, capacity - 1)
    rng = np.random.default_rng(seed)
    plain = Station(capacity, reserved, track_queue=False)
    banked = StationBank([capacity], [reserved]).stations[0]
    now = 0.0
    for _ in range(300):
        now += rng.exponential(1.0)
        duration, priority = rng.exponential(capacity * 0.95), bool(rng.random() < 0.3)
        for station in (plain, banked):
            peeked = station.wait_for(now, priority)
            assert peeked == station.serve(now, duration, priority)
    assert plain.wait_for(now) == banked.wait_for(now)
