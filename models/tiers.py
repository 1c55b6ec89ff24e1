"""The tiers of rural care (三级医疗服务网络) and the severity scale every model shares."""
from __future__ import annotations

from typing import Literal

TIERS: tuple[str, ...] = ("village", "township", "county", "outside")
PRIMARY_TIERS: tuple[str, ...] = ("village", "township")  # 基层: 村卫生室 and 乡镇卫生院
IN_COUNTY_TIERS: tuple[str, ...] = ("village", "township", "county")  # 县域内
SEVERITY_LEVELS = 3
Tier = Literal["village", "township", "county", "outside"]
VILLAGE, TOWNSHIP, COUNTY, OUTSIDE = range(len(TIERS))
