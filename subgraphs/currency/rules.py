"""Earning rules of the local currency, loaded from data/earning_rules.toml into typed values."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_RULES_PATH = Path(__file__).parent / "data" / "earning_rules.toml"
RULES_ENV = "KYODO_CURRENCY_RULES"   # a city's own rules file replaces the default
FISCAL_YEAR_END = "fiscal-year-end"
_DAYS = re.compile(r"^(\d+)d$")


@dataclass(frozen=True)
class Expiry:
    """Either the end of the grant's fiscal year, or a number of days counting the grant day."""

    fiscal_year_end: bool = False
    days: int = 0

    def __str__(self) -> str:
        return FISCAL_YEAR_END if self.fiscal_year_end else f"{self.days}d"


@dataclass(frozen=True)
class ActivityRule:
    code: str
    name: str
    category: str        # application, health, civic
    points: int          # fixed grant per activity
    daily_cap: int       # points per resident and day for this activity
    yearly_cap: int      # points per resident and fiscal year for this activity
    expiry: Expiry
    aliases: tuple[str, ...] = ()   # other names other platforms use for the same activity


@dataclass(frozen=True)
class EarningRules:
    currency_name: str
    timezone: str
    fiscal_year_start_month: int
    yearly_cap: int      # all activities together
    backdate_days: int
    max_spend: int
    activities: dict[str, ActivityRule]

    def activity(self, name: str) -> ActivityRule | None:
        """The rule for a code or one of its aliases."""
        return self.activities.get(name) or next(
            (rule for rule in self.activities.values() if name in rule.aliases), None)


def parse_expiry(text: str) -> Expiry:
    if text == FISCAL_YEAR_END:
        return Expiry(fiscal_year_end=True)
    match = _DAYS.match(text)
    if not match or int(match[1]) < 1:
        raise ValueError(f"expiry must be {FISCAL_YEAR_END!r} or '<N>d' with N >= 1, got {text!r}")
    return Expiry(days=int(match[1]))


def _positive(raw: dict, key: str, where: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}.{key} must be a positive integer, got {value!r}")
    return value


def parse_rules(data: dict) -> EarningRules:
    currency = data.get("currency", {})
    activities: dict[str, ActivityRule] = {}
    for raw in data.get("activity", []):
        code = str(raw["code"])
        where = f"activity {code}"
        if code in activities:
            raise ValueError(f"{where}: defined twice")
        activities[code] = ActivityRule(
            code=code, name=str(raw.get("name", code)), category=str(raw.get("category", "civic")),
            points=_positive(raw, "points", where), daily_cap=_positive(raw, "daily_cap", where),
            yearly_cap=_positive(raw, "yearly_cap", where), expiry=parse_expiry(str(raw.get("expiry", FISCAL_YEAR_END))),
            aliases=tuple(str(a) for a in raw.get("aliases", ())),
        )
    start_month = int(currency.get("fiscal_year_start_month", 4))
    if not 1 <= start_month <= 12:
        raise ValueError("fiscal_year_start_month must be 1..12")
    return EarningRules(
        currency_name=str(currency.get("name", "pt")), timezone=str(currency.get("timezone", "Asia/Tokyo")),
        fiscal_year_start_month=start_month, yearly_cap=_positive(currency, "yearly_cap", "currency"),
        backdate_days=int(currency.get("backdate_days", 30)), max_spend=_positive(currency, "max_spend", "currency"),
        activities=activities,
    )


@lru_cache(maxsize=4)
def load_rules(path: Path = DEFAULT_RULES_PATH) -> EarningRules:
    with open(path, "rb") as handle:
        return parse_rules(tomllib.load(handle))


def current_rules() -> EarningRules:
    """The rules in force: `$KYODO_CURRENCY_RULES` if set, else the bundled data/earning_rules.toml."""
    configured = os.environ.get(RULES_ENV)
    return load_rules(Path(configured) if configured else DEFAULT_RULES_PATH)
