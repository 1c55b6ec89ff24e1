"""Random streams: one generator per purpose per replication, from ``numpy.random.SeedSequence``.

Replication r of every scenario run with the same master seed gets the same streams (common
random numbers).  Each purpose has its own stream and every episode draws a fixed number of
variates from it, so changing one lever does not reshuffle the draws of the others.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PURPOSES = ("arrivals", "choice", "service", "referral")
# Fixed columns per episode, so a lever that uses a draw never shifts anyone else's.
MAX_VISITS = 4
STAY_DRAW, REHAB_DRAW, TCM_DRAW = MAX_VISITS, MAX_VISITS + 1, MAX_VISITS + 2  # TCM: one per visit
SERVICE_DRAWS = 2 * MAX_VISITS + 2  # consultation times, stay lengths, TCM attribute of each visit
DOWN, FAMILY_DOCTOR, BUDGET, SAME_PAYMENT, TELEMEDICINE, DAY_SURGERY = range(6)
REFERRAL_DRAWS = 6  # one uniform per referral-type decision


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
