"""An illness episode (一次患病) as it moves through the county, and the draws it carries.

Each episode owns one row of uniforms in the day's arrays; every decision reads its own named
column (``SERVICE_DRAWS``, ``DECISION_DRAWS``), so common random numbers hold lever by lever.
The case key ``(condition · S + severity) · 2 + needs_bed`` indexes every per-case table.
"""
from __future__ import annotations

from models.tiers import SEVERITY_LEVELS
from sim.core.streams import DrawColumns

MAX_VISITS = 4  # consultations an episode draws times for; later ones reuse the last column
SERVICE_DRAWS = DrawColumns(consultation=MAX_VISITS, stay=1, rehab=1, tcm=MAX_VISITS)
DECISION_DRAWS = DrawColumns(down=1, keep_in_county=1, same_payment=1, telemedicine=1, day_surgery=1,
                             withhold=1, step_down=1, fd_local=1, admission=1, return_visit=1, stock=MAX_VISITS)
# the first five decision columns come from the referral stream; columns added later (incentive
# decisions, declining a bed, return visits) from a stream of their own (Streams.extra), so
# adding one never shifts the draws of earlier days; the medicine-stock columns (one per
# consultation) come from a third stream
REFERRAL_STREAM_DECISIONS = 5
LATER_STREAM_DECISIONS = DECISION_DRAWS.stock - REFERRAL_STREAM_DECISIONS
COMPLETED, BALKED, DECLINED = 0, 1, 2  # DECLINED: a patient told they need a bed did not take it


def case_key(condition, severity, admit):
    """Index of (condition, severity, needs a bed) in per-case tables; works on arrays too."""
    return (condition * SEVERITY_LEVELS + severity) * 2 + admit


def case_condition(case: int) -> int:
    return case // (2 * SEVERITY_LEVELS)


def case_severity(case: int) -> int:
    return case // 2 % SEVERITY_LEVELS


class Episode:
    """One illness episode.  Its uniforms stay in the day's arrays (row ``row``) and are read
    only when a step needs them."""

    __slots__ = ("time", "village", "cond", "sev", "admit", "case", "resident", "first", "u_svc", "u_ref", "row",
                 "contracted", "visits", "ups", "downs", "stays", "cost", "fund", "oop", "fd", "ded_paid",
                 "step_down", "returned", "scheduled", "later_times", "sent_on")

    def __init__(self, time, village, cond, sev, admit, case, resident, first, u_svc, u_ref, row, is_contracted,
                 scheduled=False, later_times=None):
        self.time, self.village, self.cond, self.sev, self.admit = time, village, cond, sev, admit  # 0 or 1
        self.case, self.resident, self.first, self.row = case, resident, first, row
        self.u_svc, self.u_ref = u_svc, u_ref
        self.contracted = is_contracted
        self.visits = self.ups = self.downs = self.stays = 0
        self.cost = self.fund = self.oop = self.ded_paid = 0.0
        self.fd = self.returned = False
        self.sent_on = False  # a full hospital sent its next admission elsewhere (until that stay is logged)
        self.scheduled = scheduled  # a chronic-centre follow-up (慢病管理中心随访)
        self.later_times = later_times  # the day's unit-mean times of consultations 2.. (rows, MAX_VISITS - 1)
        self.step_down = 0.0  # bed-days moved from a county stay to the township (early step-down)

    def later_consultation(self, visit: int) -> float:
        """Unit-mean duration of consultation ``visit`` (1 = the second), drawn with the day."""
        return self.later_times.item(self.row, visit - 1)

    def service_draw(self, column: int) -> float:
        return self.u_svc.item(self.row, column)  # a Python float: cheaper to read and compare

    def decision_draw(self, column: int) -> float:
        return self.u_ref.item(self.row, column)
