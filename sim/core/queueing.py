"""Queueing formulas the model's rules use to predict waits (domain-free)."""
from __future__ import annotations

import math


def erlang_c_wait(offered_load: float, servers: int) -> float:
    """Mean wait in queue of M/M/c, in units of the mean service time (inf when the load
    reaches the servers); Erlang B by its stable recursion, then Erlang C."""
    if servers < 1 or offered_load >= servers:
        return math.inf
    if offered_load <= 0:
        return 0.0
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    c = servers * b / (servers - offered_load * (1.0 - b))
    return c / (servers - offered_load)
