"""Calibrate care-seeking and the price term of facility choice (docs/model.md, "Care-seeking").

The choice model's out-of-pocket coefficient is the only price coefficient of the nested logit
(facility choice below, formal care / self-treatment / forgone care above), so it is set so that
the implied own-price elasticity of a first outpatient visit equals the published value
(docs/sources/data/elasticities.csv, -0.519).  For each trial coefficient the constants are
refitted so that levels stay where the baseline is calibrated:

- choice tier constants: the first-contact shares by tier (KEEP_SHARES) of the baseline as
  calibrated to national statistics (experiments/calibrate_baseline.yaml);
- asc_formal per condition and severity: formal care 62/80/92 % of illnesses by severity;
- asc_self_treatment per severity: self-treatment 28/14/4 % (NHSS 2008 rural two-week
  self-treatment 25.3 %, experiments/validation_effects.csv); the rest is forgone care.

The return-visit decision (复诊) uses the choice model's price and travel coefficients; its
constant per tier keeps 85 % of patients asked back coming at baseline prices (assumed).

The admission decision has its own price coefficient, set so that the elasticity of accepting a
bed to the stay's out-of-pocket is the published admission elasticity (-0.372), with a constant
per condition and severity that keeps 21.5 % of advised admissions declined in every case (NHSS
2018; the same share in every case is assumed).  Stays are priced where the patient would be
admitted: at the first-contact facility if it can admit the case, else where it refers.

Everything is analytic on the model's own objects (no simulation; perceived waits zero), so it
runs in seconds.  The simulated elasticities are checked in tests/test_behaviour.py and
docs/validation.md.

    .venv/bin/python experiments/calibrate_care_seeking.py [--set key=value ...]
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, least_squares

from models.care import Care
from models.loading import county_of, load_scenario
from models.tiers import TIERS

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"
FORMAL_BY_SEVERITY = np.array([0.62, 0.80, 0.92])
SELF_BY_SEVERITY = np.array([0.28, 0.14, 0.04])
TARGET_ELASTICITY = -0.519
TARGET_ADMISSION_ELASTICITY = -0.372
RETURNING = 0.85  # share of patients asked back who come, at baseline prices (assumed)
DECLINED = 0.215  # NHSS 2018 perceived unmet need for admission, applied to every case (assumed)
# first-contact shares by tier (village, township, county, outside) of the baseline as calibrated to
# national statistics before facility choice carried the care-seeking price term (commit 2da9245,
# computed by tier_shares with settled perceptions)
KEEP_SHARES = np.array([0.1991, 0.3676, 0.3171, 0.1162])
STEP = 0.1
FREE_TIERS = ("township", "county", "outside")  # village is the reference


class Setting:
    """The calibrated parameters as --set overrides."""

    def __init__(self, beta: float, scale: float, tier_constant: dict[str, float],
                 asc_formal: dict[str, list[float]], asc_self: list[float]):
        self.beta, self.scale = beta, scale
        self.tier_constant, self.asc_formal, self.asc_self = tier_constant, asc_formal, asc_self

    def sets(self) -> list[str]:
        out = [f"choice.beta_log_oop={self.beta!r}", f"choice.oop_scale_cny={self.scale!r}"]
        out += [f"choice.tier_constant.{t}={v!r}" for t, v in self.tier_constant.items()]
        out += [f"care_seeking.asc_formal.{c}={[round(x, 3) for x in v]}" for c, v in self.asc_formal.items()]
        out.append(f"care_seeking.asc_self_treatment={[round(x, 3) for x in self.asc_self]}")
        return out


def _care(sets: list[str], path: Path = BASELINE) -> Care:
    """The baseline's models with residents' settled habits and perceptions (word of mouth)."""
    s = load_scenario(path, sets)
    care = Care(s, county_of(s))
    care.settle(np.random.default_rng(0))
    return care


def _weights(care: Care) -> np.ndarray:
    """Illnesses per (village, condition, severity) and year."""
    sev = np.array([c.severity for c in care.scenario.conditions.values()])
    return care.county.village_pop[:, None, None] * care.demand.incidence[None, :, None] * sev[None]


def tier_shares(care: Care) -> np.ndarray:
    """First-contact shares by tier of the illnesses that reach a facility (emergencies excluded)."""
    w = _weights(care)[:, ~care.demand.emergency] * FORMAL_BY_SEVERITY
    p = care.choice.prob[:, ~care.demand.emergency]  # (V, C, S, K)
    tier = care.county.fac_tier[np.where(care.choice.valid, care.choice.choice_set, 0)]  # (V, K)
    out = np.zeros(len(TIERS))
    for t in range(len(TIERS)):
        out[t] = (w[..., None] * p * (tier == t)[:, None, None, :]).sum()
    return out / out.sum()


def formal_probability(care: Care) -> float:
    w = _weights(care)
    return float((w * care.seeking.prob[..., 0]).sum() / w.sum())


def implied_elasticity(sets: list[str]) -> float:
    """Arc elasticity of P(first outpatient visit) to all outpatient prices × (1 ± STEP)."""
    base = load_scenario(BASELINE, sets)

    def at(f):
        return formal_probability(_care(sets + [f"tiers.{t}.outpatient_cost={base.tier(t).outpatient_cost * f!r}"
                                                for t in TIERS]))
    return math.log(at(1 + STEP) / at(1 - STEP)) / math.log((1 + STEP) / (1 - STEP))


def fit_levels(beta: float, scale: float, shares: np.ndarray, sets: list[str]) -> Setting:
    """Tier constants, then care-seeking constants, reproducing the target levels at ``beta``."""
    base = load_scenario(BASELINE, sets)
    consts = dict(base.choice.tier_constant)
    price = [f"choice.beta_log_oop={beta!r}", f"choice.oop_scale_cny={scale!r}"]

    def residual(x):
        c = {**consts, **{t: float(v) for t, v in zip(FREE_TIERS, x)}}
        care = _care(sets + price + [f"choice.tier_constant.{t}={v!r}" for t, v in c.items()])
        return (tier_shares(care) - shares)[1:]

    x = least_squares(residual, [consts.get(t, 0.0) for t in FREE_TIERS], diff_step=1e-4).x
    consts.update(zip(FREE_TIERS, (round(float(v), 3) for v in x)))
    care = _care(sets + price + [f"choice.tier_constant.{t}={v!r}" for t, v in consts.items()])
    w = _weights(care)
    iv = care.choice.inclusive_value
    lam = care.seeking.spec.nest_scale
    self_util = care.seeking.self_util - np.asarray(care.seeking.spec.asc_self_treatment)  # price and time part
    # with P(self)/P(forgone) and P(formal)/P(forgone) fixed by the targets, each constant is a log ratio
    forgone = 1 - FORMAL_BY_SEVERITY - SELF_BY_SEVERITY
    asc_self = [float(x) for x in np.log(SELF_BY_SEVERITY / forgone) - self_util]
    asc_formal = {}
    for j, name in enumerate(care.scenario.conditions):
        if care.demand.emergency[j]:
            continue
        row = []
        for s in range(3):
            ws, v = w[:, j, s], lam * iv[:, j, s]

            def gap(a, ws=ws, v=v, s=s):
                ef = np.exp(a + v)
                es = SELF_BY_SEVERITY[s] / forgone[s]
                return float((ws * ef / (ef + es + 1)).sum() / ws.sum()) - FORMAL_BY_SEVERITY[s]
            row.append(float(brentq(gap, -40, 40)))
        asc_formal[name] = row
    return Setting(beta, scale, consts, asc_formal, asc_self)


def stay_log_oop(care: Care) -> tuple[np.ndarray, np.ndarray]:
    """Per (village, condition, severity, option): weight of first contacts that need a bed and
    ln(1 + stay out-of-pocket / 1000 CNY) where they would be admitted."""
    from models.referral import TREAT_HERE
    from models.seeking import ADMISSION_OOP_SCALE

    ch, ref, county = care.choice, care.referral, care.county
    fac = np.maximum(ch.choice_set, 0)  # (V, K)
    tier = county.fac_tier[fac]
    admit_here = ref.can[fac][..., 1]  # (V, K, C, S)
    target = ref.target[np.arange(county.n_villages)[:, None], tier][..., 1]  # (V, K, C, S)
    referred = ~admit_here & (target != TREAT_HERE)
    where = np.where(referred, target, fac[:, :, None, None])
    stay = care.costs.per_day * care.costs.los_mean  # (T, C, S)
    oop = np.stack([[care.pay.expected_stay_oop(t, stay[t], r) for r in (False, True)] for t in range(len(TIERS))])
    c_idx, s_idx = np.arange(stay.shape[1])[:, None], np.arange(stay.shape[2])[None, :]
    value = oop[county.fac_tier[where], referred.astype(int), c_idx, s_idx]  # (V, K, C, S)
    p_admit = np.array([c.admission_prob for c in care.scenario.conditions.values()])
    weight = (_weights(care) * care.seeking.prob[..., 0] * p_admit)[:, None] * ch.prob.transpose(0, 3, 1, 2)
    weight = np.where(ch.valid[:, :, None, None], weight, 0.0)
    return weight, np.log1p(value / ADMISSION_OOP_SCALE)


def fit_admission(care: Care) -> tuple[float, dict[str, list[float]]]:
    """Admission price coefficient and constants (see the module docstring)."""
    weight, x = stay_log_oop(care)
    names = [n for j, n in enumerate(care.scenario.conditions) if not care.demand.emergency[j]]
    cells = [(j, s) for j in range(len(care.scenario.conditions)) if not care.demand.emergency[j] for s in range(3)
             if weight[..., j, s].sum() > 0]  # cases that never need a bed have no constant to fit

    def accept(a, beta, w, xs):
        return float((w / (1 + np.exp(-(a + beta * xs)))).sum() / w.sum())

    def constants(beta):
        return {(j, s): brentq(lambda a: accept(a, beta, weight[..., j, s], x[..., j, s]) - (1 - DECLINED), -60, 60)
                for j, s in cells}

    def admitted(beta, consts, factor):
        """Accepted admissions with every stay's out-of-pocket × factor."""
        return sum(accept(consts[j, s], beta, weight[..., j, s], np.log1p(np.expm1(x[..., j, s]) * factor))
                   * weight[..., j, s].sum() for j, s in cells)

    def elasticity(beta):
        consts = constants(beta)
        ratio = admitted(beta, consts, 1 + STEP) / admitted(beta, consts, 1 - STEP)
        return math.log(ratio) / math.log((1 + STEP) / (1 - STEP))

    beta = round(brentq(lambda b: elasticity(b) - TARGET_ADMISSION_ELASTICITY, -20.0, -0.05, xtol=0.01), 2)
    consts = constants(beta)
    by_name = {}
    for j, n in enumerate(care.scenario.conditions):
        if n in names:  # a case that never needs a bed takes the next severity's constant (never used)
            fitted = [consts.get((j, s)) for s in range(3)]
            row = [next(c for c in fitted[s:] + fitted[::-1] if c is not None) for s in range(3)]
            by_name[n] = [round(float(c), 3) for c in row]
    return beta, by_name


def fit_returns(care: Care) -> dict[str, float]:
    """Return-visit constant per tier: on average RETURNING of first-contact patients asked back
    at that tier's facilities come, given the visit's out-of-pocket and their travel time."""
    ch, county, spec = care.choice, care.county, care.scenario.choice
    fac = np.maximum(ch.choice_set, 0)
    tier = county.fac_tier[fac]  # (V, K)
    hours = county.travel_hours[np.arange(county.n_villages)[:, None], fac]
    visit = np.stack([care.pay.expected_oop(t, care.costs.visit[t], care.costs.visit[t], np.zeros_like(care.costs.visit[t]),
                                            referred=False) for t in range(len(TIERS))])  # (T, C, S)
    weight = (_weights(care) * care.seeking.prob[..., 0])[:, None] * ch.prob.transpose(0, 3, 1, 2)  # (V, K, C, S)
    weight = np.where(ch.valid[:, :, None, None], weight, 0.0)
    price = spec.beta_log_oop * np.log1p(visit[tier] / spec.oop_scale_cny)  # (V, K, C, S)
    rest = price + spec.beta_travel_per_hour * hours[:, :, None, None]
    out = {}
    for t, name in enumerate(TIERS):
        w, r = weight[tier == t], rest[tier == t]
        if w.sum() > 0:
            out[name] = round(float(brentq(lambda a: float((w / (1 + np.exp(-(a + r)))).sum() / w.sum()) - RETURNING,
                                           -30, 30)), 3)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--scale", type=float, default=10.0, help="CNY unit of the choice price term")
    args = ap.parse_args(argv)
    shares = KEEP_SHARES

    def elasticity_gap(beta):
        setting = fit_levels(beta, args.scale, shares, args.sets)
        e = implied_elasticity(args.sets + setting.sets())
        print(f"beta {beta:.3f}: elasticity {e:.3f}", flush=True)
        return e - TARGET_ELASTICITY

    beta = round(brentq(elasticity_gap, -6.0, -0.2, xtol=0.01), 2)
    setting = fit_levels(beta, args.scale, shares, args.sets)
    care = _care(args.sets + setting.sets())
    print("first-contact tier shares kept:", np.round(shares, 3), "->", np.round(tier_shares(care), 3))
    print("implied elasticity:", round(implied_elasticity(args.sets + setting.sets()), 3))
    print("\n".join(setting.sets()))
    print(f"care_seeking.return_asc={fit_returns(care)}")
    beta_admission, admission_asc = fit_admission(care)
    print(f"care_seeking.admission_beta_log_oop={beta_admission!r}")
    print("\n".join(f"care_seeking.admission_asc.{c}={v}" for c, v in admission_asc.items()))


if __name__ == "__main__":
    main()
