"""Each engine's settings are frozen dataclasses that gateway.toml's validated model builds from its table:
types checked by pydantic, unknown keys refused, ranges checked by the dataclass — one line naming the key."""

from __future__ import annotations

import pytest

from gateway.settings import SettingsError, settings_from_mapping
from gateway.traffic.cache_hints import CacheHint
from gateway.traffic.coalescing import CoalescingSettings
from gateway.traffic.cost import DemandControlSettings
from gateway.traffic.rate_limit import BucketSettings, RateLimitSettings
from gateway.traffic.response_cache import ResponseCacheSettings


def test_toml_tables_build_every_engines_settings() -> None:
    settings = settings_from_mapping({
        "demand_control": {"max_cost": 2000, "list_size": 20},
        "rate_limit": {"redis_url": "redis://127.0.0.1:6379/0", "anonymous": {"capacity": 100, "refill_per_second": 2.5}},
        "coalescing": {"operations": False},
        "response_cache": {"hints": {"Shelter": {"max_age": 60}}},
    })
    assert settings.demand_control == DemandControlSettings(max_cost=2000, list_size=20)
    assert settings.rate_limit.anonymous == BucketSettings(100, 2.5)
    assert settings.rate_limit.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.coalescing == CoalescingSettings(operations=False)
    cache = settings.response_cache
    assert cache.hints == {"Shelter": CacheHint(60)}
    assert cache.hint_settings.hints == {"Shelter": CacheHint(60)}
    assert cache.hint_settings is cache.hint_settings


def test_the_defaults_are_on() -> None:
    settings = settings_from_mapping({})
    assert settings.demand_control.enabled and settings.rate_limit.enabled and settings.response_cache.enabled
    assert settings.coalescing == CoalescingSettings(subgraph_fetches=True, operations=True)


@pytest.mark.parametrize(("table", "message"), [
    ({"rate_limit": {"unknown": 1}}, "rate_limit.unknown: unknown key"),
    ({"rate_limit": {"anonymous": {"capacity": 0, "refill_per_second": 1}}}, "positive capacity"),
    ({"rate_limit": {"redis_url": 6379}}, "rate_limit.redis_url"),
    ({"demand_control": {"max_cost": -1}}, "demand_control.max_cost"),
    ({"response_cache": {"max_bytes": 10, "max_entry_bytes": 100}}, "max_bytes"),
    ({"response_cache": {"hints": {"Shelter": {"max_age": 60, "scope": "PUBLIC", "ttl": 3}}}},
     "response_cache.hints.Shelter.ttl: unknown key"),
])
def test_bad_values_are_refused_with_the_key_named(table: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace(".", r"\.")):
        settings_from_mapping(table)


def test_the_dataclasses_check_their_ranges_themselves() -> None:
    with pytest.raises(ValueError, match="positive capacity"):
        BucketSettings(0, 1)
    with pytest.raises(ValueError, match="redis_url"):
        RateLimitSettings(redis_url=6379)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes"):
        ResponseCacheSettings(max_bytes=10, max_entry_bytes=100)
