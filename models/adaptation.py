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
from sim.core.search import count_at_or_below_guided, guide_table


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

    def remember(self, resident: np.ndarray, facility: np.ndarray, chose: np.ndarray) -> None:
        """The first contacts of a day's episodes that chose (``chose``; emergencies go by rule)
        become their residents' habits; those at the habit they had count as returns."""
        returns, choices = _remember(self.last, resident, facility, chose)
        self.returns += returns
        self.choices += choices

    def settle(self, util: np.ndarray, weights: np.ndarray, choice_set: np.ndarray, resident_village: np.ndarray,
               episodes: int, rng: np.random.Generator) -> None:
        """Habits formed over ``episodes`` past illnesses per resident: conditions and severities
        drawn by ``weights`` (C·S), facilities by the logit ``util`` (V, C, S, K) plus habit.

        A resident's logit weights depend only on their village, illness and which option (if
        any) is their habit, so they are computed once for every such combination (numpy's
        ``exp``, as ``draw_logit``'s) and each round only looks them up: the same numbers as
        computing them resident by resident, without the (N, K) arrays of every round."""
        n = len(resident_village)
        cum = np.cumsum(weights.ravel()) / weights.sum()
        village = np.ascontiguousarray(resident_village, dtype=np.int64)
        options = np.ascontiguousarray(choice_set, dtype=np.int64)
        p = _habit_patterns(np.ascontiguousarray(util), options, self.bonus, self.enabled)
        np.exp(p, out=p)
        running, last_with_weight = _running_tables(p)
        guide, pattern = guide_table(cum, 16 * len(cum)), _pattern_of_habit(options, self.enabled)
        for _ in range(episodes):
            illness, pick = rng.random(n), rng.random(n)
            self.last = _burn_in_round(running, last_with_weight, cum, guide, pattern, illness, pick, village, options,
                                       self.last)


@njit(cache=True)
def _remember(last, resident, facility, chose):
    """Returns and choices counted against ``last`` as it was, then ``last[resident[chose]] =
    facility[chose]`` in row order (a resident twice in a day keeps the later facility)."""
    returns, choices = 0, 0
    for i in range(len(resident)):
        if chose[i]:
            choices += 1
            returns += last[resident[i]] == facility[i]
    for i in range(len(resident)):
        if chose[i]:
            last[resident[i]] = facility[i]
    return returns, choices


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
    """Per row of weights ``p``: ``_pick`` at ``u``."""
    n, m = p.shape
    out = np.empty(n, dtype=np.int64)
    running = np.empty(m)
    for i in range(n):
        out[i] = _pick(p[i], u[i], running)
    return out


@njit(cache=True, inline="always")
def _pick(w, u, running):
    """How many running sums of the weights ``w`` are at or below ``u`` × their total, capped at
    the last option with weight (rounding at the top of the sum)."""
    last = _running_sums(w, running)
    return _capped_count(running, u * running[-1], last)


@njit(cache=True, inline="always")
def _running_sums(w, running):
    """Running sums of ``w`` into ``running``, added left to right as ``np.cumsum`` does (the
    same bits, no temporaries); returns the last option with weight."""
    total, last = 0.0, 0
    for j in range(len(w)):
        total += w[j]
        running[j] = total
        if w[j] > 0:
            last = j
    return last


@njit(cache=True, inline="always")
def _capped_count(running, x, last):
    """How many of the running sums are at or below ``x``, at most ``last``."""
    k = 0
    for j in range(len(running)):
        if x >= running[j]:
            k += 1
    return k if k < last else last


@njit(cache=True)
def _habit_patterns(util, options, bonus, habit):
    """(V, C·S, K + 1, K): utilities less each row's maximum (as ``_less_row_max``) for every
    village, illness and habit: pattern h < K is a habit at option h (the bonus on every option
    of the same facility), pattern K no habit among the options; without ``habit`` every pattern
    is the plain utility.  The same IEEE operations as adding ``bonus * (options == last)``."""
    V, C, S, K = util.shape
    out = np.empty((V, C * S, K + 1, K))
    for v in range(V):
        for cs in range(C * S):
            row = util[v, cs // S, cs % S]
            for h in range(K + 1):
                x = out[v, cs, h]
                for j in range(K):
                    x[j] = row[j]
                    if habit:
                        x[j] = x[j] + bonus * (1.0 if h < K and options[v, j] == options[v, h] else 0.0)
                _shift_rows(x.reshape((1, K)))
    return out


@njit(cache=True)
def _running_tables(p):
    """``_running_sums`` of every row of weights ``p`` (..., K): the sums in place of the weights,
    and each row's last option with weight."""
    rows = p.reshape((-1, p.shape[-1]))
    last = np.empty(len(rows), dtype=np.int64)
    for r in range(len(rows)):
        last[r] = _running_sums(rows[r].copy(), rows[r])
    return p, last.reshape(p.shape[:-1])


@njit(cache=True)
def _pattern_of_habit(options, habit):
    """(V, F + 1): the habit pattern (``_habit_patterns``) of a resident of village v whose last
    facility is f, at ``[v, f + 1]`` (f = -1: none yet): the first option that is f, else K."""
    V, K = options.shape
    out = np.full((V, max(options.max(), -1) + 2), K, dtype=np.int64)
    if habit:
        for v in range(V):
            for j in range(K - 1, -1, -1):
                out[v, options[v, j] + 1] = j
    return out


@njit(cache=True)
def _burn_in_round(running, last_with_weight, cum, guide, pattern, illness, pick, village, options, last):
    """Each resident's facility after one burn-in illness: the illness (condition × severity) by
    ``searchsorted`` on ``cum`` (``guide``: ``guide_table``), the habit pattern from ``last``,
    then ``draw_logit``'s inverse CDF on that pattern's running weights (``_running_tables``)."""
    n, K, top, F = len(illness), running.shape[3], len(cum) - 1, pattern.shape[1] - 1
    out = np.empty(n, dtype=np.int32)
    for i in range(n):
        v, f = village[i], last[i]
        h = pattern[v, f + 1] if f < F else K
        cs = min(count_at_or_below_guided(cum, guide, illness[i]), top)
        row = running[v, cs, h]
        out[i] = options[v, _capped_count(row, pick[i] * row[K - 1], last_with_weight[v, cs, h])]
    return out
