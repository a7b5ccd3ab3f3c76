from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from subgraphs.safety.sensor_health import HealthPolicy, SensorHealth, sensor_health

NOW = datetime(2026, 7, 3, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("silent_for", "battery", "rssi", "expected"),
    [
        (timedelta(minutes=10), 90, -100, SensorHealth.OK),
        (timedelta(hours=2), 90, -100, SensorHealth.OK),  # exactly two missed heartbeats: not yet stale
        (timedelta(hours=2, minutes=1), 90, -100, SensorHealth.STALE),
        (timedelta(hours=6, minutes=1), 90, -100, SensorHealth.OFFLINE),
        (timedelta(minutes=10), 19, -100, SensorHealth.LOW_BATTERY),
        (timedelta(minutes=10), 20, -100, SensorHealth.OK),
        (timedelta(minutes=10), 90, -121, SensorHealth.WEAK_LINK),
        (timedelta(minutes=10), 5, -130, SensorHealth.LOW_BATTERY),  # battery outranks link
        (timedelta(hours=3), 5, -130, SensorHealth.STALE),  # silence outranks battery
        (timedelta(minutes=10), None, None, SensorHealth.OK),  # health not reported: judged on silence only
    ],
)
def test_health_states(silent_for, battery, rssi, expected) -> None:
    assert sensor_health(NOW, NOW - silent_for, battery, rssi) is expected


def test_never_reported_is_offline() -> None:
    assert sensor_health(NOW, None, 100, -80) is SensorHealth.OFFLINE


def test_policy_changes_the_heartbeat() -> None:
    policy = HealthPolicy(heartbeat=timedelta(minutes=10))
    assert sensor_health(NOW, NOW - timedelta(minutes=30), 90, -90, policy) is SensorHealth.STALE
