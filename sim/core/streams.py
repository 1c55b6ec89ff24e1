"""Random streams: one generator per purpose per replication, from ``numpy.random.SeedSequence``.

Replication r of every scenario run with the same master seed gets the same streams (common
random numbers).  Each purpose has its own stream and every row (an episode) draws a fixed
number of variates from it, laid out by name (``DrawColumns``), so changing one lever does not
reshuffle the draws of the others.  A purpose added later gets a stream of its own, keyed by
its name (``Streams.extra``), so it never shifts the existing ones.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

PURPOSES = ("arrivals", "choice", "service", "referral")


@dataclass(frozen=True)
class Streams:
    arrivals: np.random.Generator
    choice: np.random.Generator
    service: np.random.Generator
    referral: np.random.Generator
    seed: np.random.SeedSequence | None = None

    def extra(self, name: str) -> np.random.Generator:
        """A stream of its own for a purpose added after the four above, keyed by its name."""
        key = zlib.crc32(name.encode("utf-8")) + len(PURPOSES)
        return np.random.default_rng(np.random.SeedSequence(self.seed.entropy, spawn_key=self.seed.spawn_key + (key,)))


def replication_seed(master_seed: int, replication: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(master_seed, spawn_key=(replication,))


def make_streams(seed: np.random.SeedSequence) -> Streams:
    children = [np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key + (i,))
                for i in range(len(PURPOSES))]
    return Streams(*(np.random.default_rng(c) for c in children), seed=seed)


class DrawColumns:
    """Named columns of a per-row matrix of uniforms, each at a fixed position.

    ``DrawColumns(consultation=4, stay=1)`` gives ``.consultation == 0`` (four columns from 0),
    ``.stay == 4`` and ``.width == 5``.  Decisions read their own column by name, so adding a
    decision at the end never moves anyone else's draw within a row.
    """

    def __init__(self, **widths: int):
        start = 0
        for name, width in widths.items():
            setattr(self, name, start)
            start += width
        self.width = start
        self.names = tuple(widths)


def inverse_cdf_sampler(distribution: str, cv: float):
    """Map (mean, uniform) → a positive time, for numpy arrays or scalars alike; inverse-CDF so
    each draw keeps its own uniform whatever else changes.  A time is ``mean`` times a unit-mean
    time (``unit_sampler``), so unit times drawn ahead for a whole day give the same numbers."""
    unit = unit_sampler(distribution, cv)
    return lambda mean, u: mean * unit(u)


def unit_sampler(distribution: str, cv: float):
    """Map uniforms → times of mean 1 (arrays or scalars)."""
    if distribution == "exponential":
        return lambda u: -np.log1p(-u)
    if distribution == "deterministic":
        return lambda u: 1.0 + 0.0 * u
    sigma = math.sqrt(math.log1p(cv * cv))
    return lambda u: np.exp(sigma * ndtri(np.minimum(np.maximum(u, 1e-12), 1 - 1e-12)) - 0.5 * sigma * sigma)
