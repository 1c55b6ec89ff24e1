"""Random streams: one generator per purpose per replication, from ``numpy.random.SeedSequence``.

Replication r of every scenario run with the same master seed gets the same streams (common
random numbers).  Each purpose has its own stream and every episode draws a fixed number of
variates from it, so changing one lever does not reshuffle the draws of the others.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PURPOSES = ("arrivals", "choice", "service", "referral")
SERVICE_DRAWS = 6  # up to 4 consultations per episode, an acute stay and a rehabilitation stay
REFERRAL_DRAWS = 4  # down-referral decision and spare columns for policy levers


@dataclass(frozen=True)
class Streams:
    arrivals: np.random.Generator
    choice: np.random.Generator
    service: np.random.Generator
    referral: np.random.Generator


def replication_seed(master_seed: int, replication: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(master_seed, spawn_key=(replication,))


def make_streams(seed: np.random.SeedSequence) -> Streams:
    children = [np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key + (i,))
                for i in range(len(PURPOSES))]
    return Streams(*(np.random.default_rng(c) for c in children))
