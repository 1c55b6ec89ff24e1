"""Service prices (医疗服务价格): dynamic adjustment, same-county same-price (同县同价) and a price
schedule by service category (医耗联动、总量控制、结构调整, seed 003).

Charges split into drugs, tests, consumables and labour services (shares per tier).  The
adjustment raises labour-service prices and cuts test prices (seed 003); same-county
same-price charges the homogeneous part of services (dressing, injection, infusion, blood
draw) at the township's price in every in-county facility (seed 001).

The schedule splits each condition's charge further: tests into tests, imaging and pathology,
services into consultation, TCM, rehabilitation, psychiatry and surgery (mixes per condition,
assumed), and changes each category's price at the tiers the county prices.  Budget-neutral
(总量控制): the raises are scaled by one factor so that in-county charges at the baseline's
expected volumes are unchanged — the savings on tests, imaging and consumables pay for them.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from models.tiers import TIERS
from sim.core.config_files import KeyPathError, Strict

Category = Literal["consultation", "tcm", "pathology", "rehabilitation", "psychiatry", "surgery", "tests", "imaging",
                   "consumables", "drugs"]
CATEGORIES: tuple[str, ...] = Category.__args__
SERVICE_LINES = ("consultation", "tcm", "rehabilitation", "psychiatry", "surgery")
TEST_LINES = ("tests", "imaging", "pathology")


class PriceScheduleSpec(Strict):
    """Prices by service category (医疗服务价格分类调整, seed 003) — models/levers/prices.py."""

    change: dict[Category, float] = Field(default_factory=dict, description="relative price change by category")
    tiers: list[Literal["village", "township", "county", "outside"]] = Field(
        default_factory=lambda: ["village", "township", "county"],
        description="tiers whose prices the county sets (out-of-county hospitals are priced by the city)")
    budget_neutral: bool = Field(False, description="总量控制: scale the raises so in-county charges at baseline "
                                                    "volumes are unchanged")
    service_mix: dict[str, dict[Literal["consultation", "rehabilitation", "psychiatry", "surgery"], float]] = Field(
        default_factory=dict, description="per condition: split of its service charges (default all consultation)")
    test_mix: dict[str, dict[Literal["tests", "imaging", "pathology"], float]] = Field(
        default_factory=dict, description="per condition: split of its test charges (default 0.6 tests, 0.4 imaging)")

    @model_validator(mode="after")
    def _check(self) -> "PriceScheduleSpec":
        for key, x in self.change.items():
            if not -0.9 <= x <= 5:
                raise KeyPathError(f"prices.schedule.change.{key}", x, "a relative change in [-0.9, 5]")
        for name, mixes in (("service_mix", self.service_mix), ("test_mix", self.test_mix)):
            for cond, mix in mixes.items():
                if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
                    raise KeyPathError(f"prices.schedule.{name}.{cond}", mix, "non-negative weights with a positive sum")
        if self.budget_neutral and not (any(x > 0 for x in self.change.values())
                                        and any(x < 0 for x in self.change.values())):
            raise KeyPathError("prices.schedule.budget_neutral", True,
                               "a budget-neutral schedule needs at least one raised and one lowered category")
        return self

    @property
    def active(self) -> bool:
        return any(x != 0 for x in self.change.values())


class PricesSpec(Strict):
    """Service prices — models/levers/prices.py."""

    service_price_change: float = Field(0.0, ge=-0.9, le=5, description="labour services, relative change")
    test_price_change: float = Field(0.0, ge=-0.9, le=5, description="equipment tests, relative change")
    same_county_same_price: bool = Field(False, description="同县同价 for homogeneous services")
    homogeneous_share: float = Field(0.3, ge=0, le=1, description="share of service charges that are homogeneous "
                                                                  "(dressing, injection, infusion, blood draw)")
    schedule: PriceScheduleSpec = Field(default_factory=PriceScheduleSpec)


def conditions_named(spec: PricesSpec, scenario) -> dict[str, list[str]]:
    """Condition names this lever's block refers to, by key path (checked against the scenario's)."""
    return {"prices.schedule.service_mix": list(spec.schedule.service_mix),
            "prices.schedule.test_mix": list(spec.schedule.test_mix)}


KEY = "prices"
TITLE = "医疗服务价格 Service prices"
Spec = PricesSpec



COMPONENTS = ("drug", "test", "consumable", "service")


def adjust_prices(spec: PricesSpec, parts: np.ndarray) -> np.ndarray:
    """Price parts (T, 4) in CNY per visit or bed-day, split into COMPONENTS, after the levers.

    Same-county same-price charges the homogeneous share of every in-county tier's service
    charges at the township's level.
    """
    out = parts.copy()
    out[:, 1] *= 1.0 + spec.test_price_change
    out[:, 3] *= 1.0 + spec.service_price_change
    if spec.same_county_same_price:
        township = TIERS.index("township")
        in_county = slice(0, TIERS.index("outside"))
        homogeneous = spec.homogeneous_share
        out[in_county, 3] = (1 - homogeneous) * out[in_county, 3] + homogeneous * out[township, 3]
    return out


def category_shares(parts: np.ndarray, conditions: list[str], spec: PriceScheduleSpec) -> np.ndarray:
    """shares[t, c, k]: share of category CATEGORIES[k] in a tier-t charge for condition c."""
    T, C = parts.shape[0], len(conditions)
    total = parts.sum(axis=1, keepdims=True)
    coarse = np.divide(parts, total, out=np.zeros_like(parts), where=total > 0)  # drug, test, consumable, service
    out = np.zeros((T, C, len(CATEGORIES)))
    out[:, :, CATEGORIES.index("drugs")] = coarse[:, None, 0]
    out[:, :, CATEGORIES.index("consumables")] = coarse[:, None, 2]
    for c, name in enumerate(conditions):
        for part, mix in ((1, spec.test_mix.get(name, {"tests": 0.6, "imaging": 0.4})),
                          (3, spec.service_mix.get(name, {"consultation": 1.0}))):
            weight = sum(mix.values())
            for line, w in mix.items():
                out[:, c, CATEGORIES.index(line)] += coarse[:, part] * w / weight
    return out


def change_vector(spec: PriceScheduleSpec, raise_scale: float = 1.0) -> np.ndarray:
    """Relative change by category; raises multiplied by ``raise_scale`` (the neutral factor)."""
    d = np.array([spec.change.get(k, 0.0) for k in CATEGORIES])
    return np.where(d > 0, d * raise_scale, d)


def priced_tiers(spec: PriceScheduleSpec) -> np.ndarray:
    return np.isin(np.array(TIERS), spec.tiers)


def price_factor(shares: np.ndarray, spec: PriceScheduleSpec, raise_scale: float = 1.0,
                 tcm_visit: bool = False) -> np.ndarray:
    """factor[t, c]: a charge's multiplier under the schedule (1 at tiers it does not price).  A
    TCM visit's service charges are all in the TCM category."""
    if tcm_visit:
        shares = shares.copy()
        service = shares[..., [CATEGORIES.index(k) for k in SERVICE_LINES]].sum(axis=-1)
        shares[..., [CATEGORIES.index(k) for k in SERVICE_LINES]] = 0.0
        shares[..., CATEGORIES.index("tcm")] = service
    factor = 1.0 + shares @ change_vector(spec, raise_scale)
    return np.where(priced_tiers(spec)[:, None], factor, 1.0)


def neutral_scale(charges: list[tuple[np.ndarray, np.ndarray]], spec: PriceScheduleSpec) -> float:
    """The factor on the raises that leaves in-county charges unchanged: ``charges`` holds
    (baseline CNY by tier and condition, category shares) for visits and for bed-days."""
    d = np.array([spec.change.get(k, 0.0) for k in CATEGORIES])
    up = down = 0.0
    for weights, shares in charges:
        w = weights * priced_tiers(spec)[:, None]
        up += float(np.einsum("tc,tck,k->", w, shares, np.where(d > 0, d, 0.0)))
        down += float(np.einsum("tc,tck,k->", w, shares, np.where(d < 0, d, 0.0)))
    return -down / up if up > 0 else 1.0
