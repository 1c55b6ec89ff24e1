"""Service prices (医疗服务价格): dynamic adjustment and same-county same-price (同县同价).

Charges split into drugs, tests, consumables and labour services (shares per tier).  The
adjustment raises labour-service prices and cuts test prices (seed 003); same-county
same-price charges the homogeneous part of services (dressing, injection, infusion, blood
draw) at the township's price in every in-county facility (seed 001).
"""
from __future__ import annotations

import numpy as np
from pydantic import Field

from models.tiers import TIERS
from sim.core.config_files import Strict


class PricesSpec(Strict):
    """Service prices — models/levers/prices.py."""

    service_price_change: float = Field(0.0, ge=-0.9, le=5, description="labour services, relative change")
    test_price_change: float = Field(0.0, ge=-0.9, le=5, description="equipment tests, relative change")
    same_county_same_price: bool = Field(False, description="同县同价 for homogeneous services")
    homogeneous_share: float = Field(0.3, ge=0, le=1, description="share of service charges that are homogeneous "
                                                                  "(dressing, injection, infusion, blood draw)")


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
