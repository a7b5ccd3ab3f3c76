"""Each engine's settings are frozen dataclasses that the gateway's TOML reader builds as they are."""

from __future__ import annotations

import pytest

from gateway.settings import SettingsError, _build
from gateway.traffic.cache_hints import CacheHint
from gateway.traffic.coalescing import CoalescingSettings
from gateway.traffic.cost import DemandControlSettings
from gateway.traffic.rate_limit import BucketSettings, RateLimitSettings
from gateway.traffic.response_cache import ResponseCacheSettings


def test_toml_tables_build_every_engines_settings() -> None:
    demand = _build(DemandControlSettings, {"max_cost": 2000, "list_size": 20}, "demand_control")
    assert demand == DemandControlSettings(max_cost=2000, list_size=20)
    limits = _build(RateLimitSettings, {"redis_url": "redis://127.0.0.1:6379/0",
                                        "anonymous": {"capacity": 100, "refill_per_second": 2.5}}, "rate_limit")
    assert limits.anonymous == BucketSettings(100, 2.5) and limits.redis_url.startswith("redis://")
    assert _build(CoalescingSettings, {"operations": False}, "coalescing") == CoalescingSettings(operations=False)
    cache = _build(ResponseCacheSettings, {"hints": {"Shelter": {"max_age": 60}}}, "response_cache")
    assert cache.hints == {"Shelter": CacheHint(60)}
    assert cache.hint_settings.hints == {"Shelter": CacheHint(60)}
    assert cache.hint_settings is cache.hint_settings


def test_bad_values_are_refused_with_the_key_named() -> None:
    with pytest.raises(SettingsError, match="rate_limit.unknown"):
        _build(RateLimitSettings, {"unknown": 1}, "rate_limit")
    with pytest.raises(ValueError, match="positive capacity"):
        BucketSettings(0, 1)
    with pytest.raises(ValueError, match="redis_url"):
        RateLimitSettings(redis_url=6379)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="demand_control.max_cost"):
        DemandControlSettings(max_cost=-1)
    with pytest.raises(ValueError, match="max_bytes"):
        ResponseCacheSettings(max_bytes=10, max_entry_bytes=100)
