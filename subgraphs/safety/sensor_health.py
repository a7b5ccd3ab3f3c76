"""Health of a one-coin flood sensor (MLIT ワンコイン浸水センサ): it reports only wet/dry plus
battery and link state, so health is judged from the battery and from how late its last report is."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class SensorHealth(enum.Enum):
    OK = "OK"
    LOW_BATTERY = "LOW_BATTERY"
    WEAK_LINK = "WEAK_LINK"
    STALE = "STALE"  # missed a few heartbeats
    OFFLINE = "OFFLINE"  # silent for long, or never reported


@dataclass(frozen=True)
class HealthPolicy:
    """Operating thresholds; a deployment's sensors may differ, hence a policy object."""

    heartbeat: timedelta = timedelta(hours=1)  # a dry sensor still reports this often
    stale_after_missed: int = 2  # heartbeats missed before STALE
    offline_after_missed: int = 6  # heartbeats missed before OFFLINE
    low_battery_percent: int = 20
    weak_link_rssi_dbm: int = -120  # LPWA links below this are unreliable


DEFAULT_POLICY = HealthPolicy()


def sensor_health(
    now: datetime,
    last_report_at: datetime | None,
    battery_percent: int | None,
    rssi_dbm: int | None,
    policy: HealthPolicy = DEFAULT_POLICY,
) -> SensorHealth:
    """The worst applicable state: silence beats battery, battery beats link quality."""
    if last_report_at is None:
        return SensorHealth.OFFLINE
    silent_for = now - last_report_at
    if silent_for > policy.heartbeat * policy.offline_after_missed:
        return SensorHealth.OFFLINE
    if silent_for > policy.heartbeat * policy.stale_after_missed:
        return SensorHealth.STALE
    if battery_percent is not None and battery_percent < policy.low_battery_percent:
        return SensorHealth.LOW_BATTERY
    if rssi_dbm is not None and rssi_dbm < policy.weak_link_rssi_dbm:
        return SensorHealth.WEAK_LINK
    return SensorHealth.OK
