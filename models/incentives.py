"""Provider incentives (激励): when the community or a family-doctor team departs from routine.

The calibrated baseline is fee-for-service (按项目付费) behaviour: whatever revenue rewards
under fee-for-service (admitting, keeping patients in hospital) is already in it.  A provider
departs from that routine only through what a departure gains it *relative to fee-for-service*:

    gain = Δ(fund payments to the community under the payment in force − under fee-for-service)
           + stake × (fund spending avoided) + Δ(assessment payback)

and takes a discretionary departure with probability ``share × (1 − exp(−max(gain, 0) / κ))``.
Its own costs are the same under either payment, so they cancel; the patient's out-of-pocket
follows the same rules either way.  With fee-for-service and no stake every gain is 0 and the
run is the baseline, draw for draw.  Gains use expected amounts (usual stays, fee-for-service
fund shares, deductibles at the tier's usual value).

Decisions (each with its own draw column):
- keep a would-be out-of-county referral in a county hospital (``keep_gain``);
- the marginal county admission of a mild case (``admit_gain``): withheld, the patient treated
  as an outpatient, when admitting gains less than under fee-for-service; a would-be
  outpatient admitted (supplier-induced admission, 诱导住院) when it gains more;
- step a stable county inpatient down to the township centre early, moving part of the stay
  (``step_down_gain``);
- send a same-payment (同病同付) county admission to the township centre (``downshift_gain``);
- a stay's length: its discretionary part shortens when each bed-day costs the community
  more than it earns relative to fee-for-service, and lengthens when it earns more
  (``los_factor``; expected factor, no draw);
- a family-doctor team under capitation (按人头包干) manages a contracted resident itself
  rather than refer up, as it keeps what it does not spend on referrals (``team_gain``);
- the same team's chronic follow-up frequency (慢病随访): under capitation a follow-up earns
  nothing per visit (the fee-for-service fee is forgone) but is expected to avert referrals
  the team bears, so follow-ups rise when the expected savings exceed the fee and fall when
  they do not (``followup_gain``, ``followup_factor``; expected factor, no draw).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from models.tiers import TIERS

if TYPE_CHECKING:
    from models.community import Community
    from models.costs import CostModel
    from models.levers.payment import CasePayment, ResponseSpec
    from models.reimbursement import Reimbursement

TOWNSHIP, COUNTY, OUTSIDE = TIERS.index("township"), TIERS.index("county"), TIERS.index("outside")
KEEP_MOVES = (-1, 0, 0, -1)  # a kept referral's change to the tallies: a visit (out of county) and a referral fewer


def probability(gain: float, kappa: float) -> float:
    """Probability of taking a discretionary departure worth ``gain`` CNY."""
    return 1.0 - math.exp(-gain / kappa) if gain > 0 else 0.0


def departs(u: float, share: float, gain: float, kappa: float) -> bool:
    """Whether a provider whose draw is ``u`` takes a discretionary departure worth ``gain``
    (eligible with ``share``); compiled as is by ``sim/compiled_steps.py``."""
    return gain > 0 and u < share * probability(gain, kappa)


class ProviderResponse:
    """Per-case expected payments (indexed [tier][case key]) and the gains built from them."""

    def __init__(self, spec: ResponseSpec, costs: CostModel, pay: Reimbursement, case_payment: CasePayment,
                 community: Community, referral_risk_share: float, capitated: bool = False):
        self.spec, self.community = spec, community
        self.capitated = capitated
        self.kappa, self.team_kappa = spec.sensitivity_cny, spec.team_sensitivity_cny
        self.team_share = referral_risk_share
        T = len(TIERS)

        def per_case(a) -> list:  # (T, C, S) → [tier][case key]
            return np.repeat(np.asarray(a, dtype=object).reshape(T, -1), 2, axis=1).tolist()

        self.fixed = per_case(case_payment.case)
        self.points = np.repeat(np.asarray(case_payment.points).reshape(-1), 2).tolist() if case_payment.points \
            else None
        self.per_diem = case_payment.per_diem
        out_rate, out_ded = np.array(pay.out_rate[:T])[:, None, None], np.array(pay.out_ded[:T])[:, None, None]
        self.visit_fund = per_case(np.maximum(costs.visit - out_ded, 0.0) * out_rate)  # referred schedule
        self.per_day, self.los = per_case(costs.per_day), per_case(costs.los_mean)
        self.in_rate, self.in_ded = list(pay.in_rate[:T]), list(pay.in_ded[:T])
        self.rehab_days = costs.rehab_days
        self.rehab_fund_day = self.in_rate[TIERS.index("township")] * costs.rehab_per_day

    @property
    def stake(self) -> float:
        return self.community.stake

    # ------------------------------------------------------------------ payments per case
    def case_fee(self, tier: int, case: int) -> float | None:
        """The fixed fund payment for a stay at this tier now (DRG or same-payment; DIP at the
        provisional point price), or None under fee-for-service."""
        if self.is_dip(tier, case):
            return self.points[case] * self.community.dip_price
        return self.fixed[tier][case]

    def is_dip(self, tier: int, case: int) -> bool:
        return tier == COUNTY and self.points is not None and self.fixed[tier][case] is None

    def ffs_stay_fund(self, tier: int, case: int, factor: float = 1.0) -> float:
        """Expected fee-for-service fund payment for a stay ``factor`` × the usual length."""
        cost = self.per_day[tier][case] * self.los[tier][case] * factor
        return max(cost - self.in_ded[tier], 0.0) * self.in_rate[tier]

    def _stay(self, tier: int, case: int) -> tuple[float, float]:
        """(premium over fee-for-service, fund payment) of a stay at this tier under the
        payment in force, at the length the payment leads to."""
        factor = self.los_factor(tier, case)
        ffs = self.ffs_stay_fund(tier, case, factor)
        fee = self.case_fee(tier, case)
        return (0.0, ffs) if fee is None else (fee - ffs, fee)

    # ------------------------------------------------------------------ the decisions
    def los_factor(self, tier: int, case: int) -> float:
        """Expected stay length ÷ the usual one: the discretionary days go when a bed-day earns
        the community less than under fee-for-service (case payment: the day is no longer
        paid) or costs it its stake in the fund's payment for the day."""
        share = self.spec.discretionary_los_share
        if tier not in (TOWNSHIP, COUNTY) or share <= 0:
            return 1.0
        fund_day = self.in_rate[tier] * self.per_day[tier][case]
        per_day = fund_day if self.case_fee(tier, case) is not None else self.stake * fund_day
        return 1.0 - share * probability(per_day * share * self.los[tier][case], self.kappa)

    def rehab_los_factor(self) -> float:
        """The same for a rehabilitation stay at a township centre; under a per-diem above the
        fee-for-service fund payment a day earns more, and stays lengthen."""
        share = self.spec.discretionary_los_share
        if share <= 0:
            return 1.0
        ffs, s = self.rehab_fund_day, self.stake
        per_day = s * ffs if self.per_diem is None else (ffs - self.per_diem) + s * self.per_diem
        gain = per_day * share * self.rehab_days
        return 1.0 - share * probability(gain, self.kappa) + share * probability(-gain, self.kappa)

    def keep_gain(self, case: int, admit: bool) -> float:
        """A county hospital treats a would-be out-of-county referral itself: the fund no longer
        pays the outside visit and stay, the county earns its own stay's premium, and the
        visit and the referral leave the assessment tallies."""
        return self.keep_value(case, admit) + self.community.assessment_gain(*KEEP_MOVES)

    def keep_value(self, case: int, admit: bool) -> float:
        """``keep_gain`` before the assessment: fixed while the stake and the DIP price are (the
        compiled steps add the assessment's part, which moves with every visit)."""
        fund_out = self.visit_fund[OUTSIDE][case] + (self.ffs_stay_fund(OUTSIDE, case) if admit else 0.0)
        premium, fund_in = self._stay(COUNTY, case) if admit else (0.0, 0.0)
        return premium + self.stake * (fund_out - fund_in)

    def admit_gain(self, case: int) -> float:
        """A mild county case admitted rather than treated as an outpatient (the marginal
        admission, 诱导住院 when it need not be): the stay's premium over fee-for-service is
        earned and its fund payment spent.  Negative: withholding an admission gains."""
        premium, fund = self._stay(COUNTY, case)
        return premium - self.stake * fund

    def downshift_gain(self, case: int) -> float:
        """A county admission sent to the township centre instead (同病同付 conditions): the
        township earns its stay's premium, the county forgoes its own, and the community keeps
        its stake in the difference of the fund's payments (none when both tiers are paid the
        same).  Under the same payment the county's premium is the township fee less its own
        fee-for-service fund, so the gain is what a county stay used to earn above a township one."""
        county_premium, county_fund = self._stay(COUNTY, case)
        town_premium, town_fund = self._stay(TOWNSHIP, case)
        return town_premium - county_premium + self.stake * (county_fund - town_fund)

    def step_down_days(self, case: int) -> float:
        return self.spec.step_down_share * self.los[COUNTY][case] * self.los_factor(COUNTY, case)

    def step_down_gain(self, case: int) -> float:
        """Part of a county stay moved to the township centre: the county no longer bills those
        days (under a case payment it keeps the fee), the township bills them at its rate."""
        days = self.step_down_days(case)
        county_ffs = self.in_rate[COUNTY] * self.per_day[COUNTY][case] * days
        county = county_ffs if self.case_fee(COUNTY, case) is None else 0.0
        town_ffs = self.rehab_fund_day * days
        town = town_ffs if self.per_diem is None else self.per_diem * days
        return (town - town_ffs) - (county - county_ffs) + self.stake * (county - town)

    def team_gain(self, target_tier: int, case: int, admit: bool) -> float:
        """A capitated family-doctor team manages a contracted resident itself: it keeps the
        fund payment the referral would have cost its capitation (按人头包干)."""
        return self.team_share * self.referral_fund(target_tier, case, admit)

    def referral_fund(self, target_tier: int, case: int, admit: bool) -> float:
        """Fund payment a referral up to ``target_tier`` costs: the visit, and the stay if admitted."""
        fund = self.visit_fund[target_tier][case]
        if admit:
            fund += self.ffs_stay_fund(OUTSIDE, case) if target_tier == OUTSIDE else self._stay(target_tier, case)[1]
        return fund

    def followup_gain(self, fee: float, referral_fund: float) -> float:
        """One more chronic follow-up for a capitated team, relative to fee-for-service: the
        fee-for-service fund fee it no longer earns, against its share of the referrals the
        follow-up is expected to avert (``referral_fund``: expected fund cost of one referral up)."""
        if not self.capitated:
            return 0.0
        return self.team_share * self.spec.referrals_averted_per_followup * referral_fund - fee

    def followup_factor(self, fee: float, referral_fund: float) -> float:
        """Chronic follow-ups ÷ the fee-for-service routine: 1 + share × (P(gain) − P(−gain))."""
        gain, share = self.followup_gain(fee, referral_fund), self.spec.followup_share
        return 1.0 + share * (probability(gain, self.team_kappa) - probability(-gain, self.team_kappa))
