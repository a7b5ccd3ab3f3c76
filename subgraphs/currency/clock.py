"""What "today" means for caps and expiry: the date in the currency's configured time zone (Asia/Tokyo).

Resolvers call `clock.today(rules)` through the module so that a test can move the date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from subgraphs.currency.rules import EarningRules


def today(rules: EarningRules) -> date:
    return datetime.now(ZoneInfo(rules.timezone)).date()
