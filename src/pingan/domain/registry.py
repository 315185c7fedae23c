"""Base registries the command centre links cases to: facilities and the devices that watch them.

(Population and legal-entity registries join this module as the data hub grows.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class DeviceKind(StrEnum):
    SMOKE = "smoke"  # 烟感
    GAS = "gas"  # 燃气泄漏探测器
    WATER_LEVEL = "water_level"  # 水位计
    MANHOLE = "manhole"  # 智能井盖
    TEMPERATURE = "temperature"  # 温度传感器
    CAMERA = "camera"  # AI 摄像头
    KITCHEN_CAMERA = "kitchen_camera"  # 阳光厨房摄像头


class FacilityKind(StrEnum):
    SCHOOL_KITCHEN = "school_kitchen"  # 学校食堂
    RESTAURANT = "restaurant"  # 餐饮单位
    RESIDENTIAL = "residential"  # 住宅小区
    RIVER = "river"  # 河道
    ROAD = "road"  # 道路


@dataclass(frozen=True, slots=True)
class Facility:
    id: str
    kind: FacilityKind
    name: str
    grid_path: str
    lng: float
    lat: float


@dataclass(frozen=True, slots=True)
class Device:
    """A connected sensor or camera in its grid; `interval_s` is how often it must report."""

    id: str
    kind: DeviceKind
    name: str
    lng: float
    lat: float
    grid_path: str
    owner: str  # department id, or the facility's operator
    facility_id: str | None
    interval_s: int
    last_seen_at: datetime | None = None

    def online(self, now: datetime) -> bool:
        """Online while it reported within twice its interval (one missed report is tolerated)."""
        if self.last_seen_at is None:
            return False
        return now - self.last_seen_at <= timedelta(seconds=2 * self.interval_s)
