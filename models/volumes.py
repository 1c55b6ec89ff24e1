"""Expected yearly volumes (预期服务量): visits and bed-days by tier, condition and severity.

What the budget-neutral price schedule (总量控制) holds constant: charges at the volumes the
county would see without the schedule.  Each village's episodes go to their first facility by
the choice model's shares at zero waits (emergencies by rule), are referred up the chain until a
facility can treat them, and stay there if admitted.  First-contact rules of other levers (the
family doctor's gatekeeping), queueing and downward referral are left out: a planner's estimate
of the volume mix, not a simulation.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.choice import ChoiceModel
from models.costs import CostModel
from models.geography import County
from models.levers.prices import neutral_scale
from models.referral import TREAT_HERE, ReferralModel
from models.reimbursement import Reimbursement
from models.tiers import SEVERITY_LEVELS, TIERS

if TYPE_CHECKING:
    from models.scenario import Scenario


def expected_volumes(scenario: Scenario, county: County, costs: CostModel, choice: ChoiceModel,
                     referral: ReferralModel) -> tuple[np.ndarray, np.ndarray]:
    """(visits, bed-days) per year, each indexed [tier, condition, severity]."""
    T, C, S = len(TIERS), len(scenario.conditions), SEVERITY_LEVELS
    visits, bed_days = np.zeros((T, C, S)), np.zeros((T, C, S))
    V = county.n_villages
    rows = np.arange(V)
    for c, cond in enumerate(scenario.conditions.values()):
        for s in range(S):
            episodes = county.village_pop * cond.incidence * cond.severity[s]  # (V,)
            for admit in (0, 1):
                p = cond.admission_prob[s] if admit else 1.0 - cond.admission_prob[s]
                if p <= 0 or not episodes.any():
                    continue
                if cond.emergency:
                    first = referral.emergency_first[:, c, s, admit][:, None]
                    share = np.ones((V, 1))
                else:
                    first = np.where(choice.valid, choice.choice_set, 0)
                    share = choice.prob[:, c, s, :]
                for k in range(first.shape[1]):
                    mass = episodes * p * share[:, k]
                    fac = first[:, k].copy()
                    for _ in range(len(TIERS) + 1):
                        tier = county.fac_tier[fac]
                        np.add.at(visits[:, c, s], tier, mass)
                        done = referral.can[fac, c, s, admit]
                        nxt = referral.target[rows, tier, c, s, admit]
                        done |= nxt == TREAT_HERE
                        if admit:
                            np.add.at(bed_days[:, c, s], tier[done], (mass * costs.los_mean[tier, c, s])[done])
                        mass = np.where(done, 0.0, mass)
                        if not mass.any():
                            break
                        fac = np.where(done, fac, nxt)
    return visits, bed_days


def price_raise_scale(scenario: Scenario, county: County) -> float:
    """The budget-neutral factor on the price schedule's raises (1 when it is not budget-neutral)."""
    sched = scenario.prices.schedule
    if not (sched.active and sched.budget_neutral):
        return 1.0
    base = CostModel(scenario, schedule=False)
    referral = ReferralModel(scenario, county)
    choice = ChoiceModel(scenario, county, base, Reimbursement(scenario.reimbursement, county.population), referral)
    visits, bed_days = expected_volumes(scenario, county, base, choice, referral)
    return neutral_scale([((visits * base.visit).sum(axis=2), base.visit_shares),
                          ((bed_days * base.per_day).sum(axis=2), base.day_shares)], sched)
