"""Adaptation over years (就医习惯与口碑): habits and perceived quality that move slowly.

- Habit: a resident's last first-contact facility carries ``habit_bonus`` in their next choice,
  so after a reform residents switch one illness at a time rather than all on day 1.
- Word of mouth: the perceived resolved-here share of each facility (problems solved there
  rather than referred on) is an exponential smoothing of what its first-contact patients
  experienced, updated monthly with weight ``monthly_smoothing``; it enters utility with
  ``beta_resolved``.  The perceived quality of stationed senior doctors (sinking lever) moves
  towards its new value at the same pace.
- Where residents start: with ``starts_from`` (a scenario file, e.g. the baseline) residents
  bring the habits and perceptions they formed under that scenario — a reform then builds up
  over the years of the run.  Without it they start settled in the scenario itself.  Habits
  are settled by drawing ``burn_in_episodes`` past illnesses per resident.
"""
from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.core.config_files import Strict
from sim.core.jit import njit
from sim.core.search import count_at_or_below


class AdaptationSpec(Strict):
    """Habit persistence and word of mouth; off by default (choices do not depend on the past)."""

    source: str = "assumed"
    habit_bonus: float = Field(0.0, ge=0, le=10, description="utility of the resident's last first-contact facility")
    beta_resolved: float = Field(0.0, ge=0, le=20, description="utility per unit of perceived resolved-here share")
    monthly_smoothing: float = Field(0.1, gt=0, le=1, description="weight of the latest month in perceptions")
    starts_from: str | None = Field(None, description="scenario file whose settled habits and perceptions "
                                                      "residents bring into the run; null = this scenario")
    burn_in_episodes: int = Field(8, ge=0, le=100, description="past illnesses drawn to settle habits")

    @property
    def enabled(self) -> bool:
        return self.habit_bonus > 0 or self.beta_resolved > 0


class Perceptions:
    """Perceived resolved-here share and stationed-doctor quality per facility, smoothed monthly."""

    def __init__(self, spec: AdaptationSpec, resolved0: np.ndarray, boost0: np.ndarray, boost: np.ndarray):
        self.alpha = spec.monthly_smoothing
        self.beta_resolved = spec.beta_resolved
        self.resolved = resolved0.astype(float).copy()
        self.boost, self.target_boost = boost0.astype(float).copy(), boost.astype(float)
        n = len(resolved0)
        self._seen, self._solved = [0] * n, [0] * n  # plain counts: one add per consultation

    def observe(self, fac: int, resolved: bool) -> None:
        """A first-contact consultation at ``fac`` and whether it ended there."""
        self._seen[fac] += 1
        if resolved:
            self._solved[fac] += 1

    def month_end(self) -> None:
        a = self.alpha
        counts, solved = np.array(self._seen, dtype=float), np.array(self._solved, dtype=float)
        seen = counts > 0
        share = np.divide(solved, counts, out=np.zeros_like(counts), where=seen)
        self.resolved = np.where(seen, (1 - a) * self.resolved + a * share, self.resolved)
        self.boost = (1 - a) * self.boost + a * self.target_boost
        self._seen[:] = [0] * len(self._seen)  # in place: the compiled steps share them
        self._solved[:] = [0] * len(self._solved)

    def utility(self, beta_quality: float) -> np.ndarray:
        """Per facility: what word of mouth adds to the static utility (the static part already
        holds the stationed doctors' full quality; the lag is subtracted until it is learnt)."""
        return self.beta_resolved * self.resolved + beta_quality * (self.boost - self.target_boost)


class Habits:
    """Each resident's last first-contact facility (-1: none yet)."""

    def __init__(self, spec: AdaptationSpec, n_residents: int):
        self.bonus = spec.habit_bonus
        self.last = np.full(n_residents, -1, dtype=np.int32)
        self.enabled = self.bonus > 0
        self.returns = 0  # first contacts at the habitual facility (for the return-share check)
        self.choices = 0

    def utility(self, choice_set: np.ndarray, resident: np.ndarray) -> np.ndarray:
        """(N, K) habit bonus of each option for each episode's resident."""
        return _habit_bonus(choice_set, self.last, resident, self.bonus)

    def remember(self, resident: np.ndarray, facility: np.ndarray, counted: np.ndarray | None = None) -> None:
        if counted is not None and counted.any():
            self.returns += int((self.last[resident[counted]] == facility[counted]).sum())
            self.choices += int(counted.sum())
        self.last[resident] = facility

    def settle(self, util: np.ndarray, weights: np.ndarray, choice_set: np.ndarray, resident_village: np.ndarray,
               episodes: int, rng: np.random.Generator) -> None:
        """Habits formed over ``episodes`` past illnesses per resident: conditions and severities
        drawn by ``weights`` (C·S), facilities by the logit ``util`` (V, C, S, K) plus habit."""
        n = len(resident_village)
        cum = np.cumsum(weights.ravel()) / weights.sum()
        util = np.ascontiguousarray(util)
        village = np.ascontiguousarray(resident_village, dtype=np.int64)
        options = np.ascontiguousarray(choice_set, dtype=np.int64)
        shifted, p = np.empty((n, util.shape[3])), np.empty((n, util.shape[3]))  # reused by every round
        for _ in range(episodes):
            _burn_in_utility(util, cum, rng.random(n), village, options, self.last, self.bonus, self.enabled, shifted)
            np.exp(shifted, out=p)  # numpy's exp on a contiguous (N, K) block, as draw_logit's
            self.last = _burn_in_choice(p, rng.random(n), village, options)


@njit(cache=True)
def _habit_bonus(choice_set, last, resident, bonus):
    """``bonus * (choice_set == last[resident][:, None])`` in one pass."""
    n, K = choice_set.shape
    out = np.empty((n, K))
    for i in range(n):
        mine = last[resident[i]]
        for j in range(K):
            out[i, j] = bonus * (1.0 if choice_set[i, j] == mine else 0.0)
    return out


def draw_logit(util: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the option chosen in each row of ``util`` (N, K; -inf = unavailable) by inverse CDF."""
    p = np.exp(_less_row_max(util))  # numpy's exp, as the logit weights always were
    return _inverse_cdf(p, np.ascontiguousarray(u, dtype=np.float64))


@njit(cache=True)
def _less_row_max(util):
    """``util - util.max(axis=1, keepdims=True)`` as a new C-ordered array (numpy's reduction over
    a short row costs more than the row's arithmetic); no NaN in ``util``."""
    return _shift_rows(util.copy())


@njit(cache=True)
def _shift_rows(x):
    """``x -= x.max(axis=1, keepdims=True)`` in place, row by row; returns ``x``."""
    n, K = x.shape
    for i in range(n):
        m = x[i, 0]
        for j in range(1, K):
            if x[i, j] > m:
                m = x[i, j]
        for j in range(K):
            x[i, j] = x[i, j] - m
    return x


@njit(cache=True)
def utility_less_row_max(util, village, condition, severity, extra):
    """``_less_row_max(util[village, condition, severity] + extra)`` for (V, C, S, K) ``util`` and
    (N, K) ``extra``, without the gathered temporaries."""
    n, K = extra.shape
    out = np.empty((n, K))
    for i in range(n):
        row = util[village[i], condition[i], severity[i]]
        for j in range(K):
            out[i, j] = row[j] + extra[i, j]
    return _shift_rows(out)


@njit(cache=True)
def chosen_options(p, u, choice_set, village):
    """``choice_set[village, _inverse_cdf(p, u)]``: the facility each patient chose."""
    k = _inverse_cdf(p, u)
    out = np.empty(len(u), dtype=choice_set.dtype)
    for i in range(len(u)):
        out[i] = choice_set[village[i], k[i]]
    return out


@njit(cache=True)
def _inverse_cdf(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row of weights ``p``: how many running sums are at or below ``u`` × the row's total,
    capped at the last option with weight (rounding at the top of the sum).  The running sum is
    added left to right, as ``np.cumsum`` does: the same bits, without its (N, K) temporaries."""
    n, m = p.shape
    out = np.empty(n, dtype=np.int64)
    cum = np.empty(m)
    for i in range(n):
        total, last = 0.0, 0
        for j in range(m):
            total += p[i, j]
            cum[j] = total
            if p[i, j] > 0:
                last = j
        x = u[i] * total
        k = 0
        for j in range(m):
            if x >= cum[j]:
                k += 1
        out[i] = k if k < last else last
    return out


@njit(cache=True)
def _burn_in_utility(util, cum, u, village, options, last, bonus, habit, out):
    """Into ``out`` (N, K): utilities of one burn-in illness per resident less each row's
    maximum, as ``draw_logit`` shifts them (``_less_row_max``): the illness (condition ×
    severity) by ``searchsorted`` on ``cum``, plus ``bonus`` on the resident's ``last`` facility
    when ``habit``; the same IEEE operations as the numpy expression, without its temporaries."""
    n, S, K, top = len(u), util.shape[2], util.shape[3], len(cum) - 1
    for i in range(n):
        cs = min(count_at_or_below(cum, u[i]), top)
        v, c, s = village[i], cs // S, cs % S
        for j in range(K):
            x = util[v, c, s, j]
            if habit:
                x = x + bonus * (1.0 if options[v, j] == last[i] else 0.0)
            out[i, j] = x
    _shift_rows(out)


@njit(cache=True)
def _burn_in_choice(p, u, village, options):
    """Each resident's facility after one burn-in illness: ``draw_logit``'s inverse CDF on ``p``."""
    return chosen_options(p, u, options, village).astype(np.int32)
