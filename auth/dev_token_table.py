"""`kyodo token --list`: the demo accounts as a table, with the scopes each may be granted."""

from __future__ import annotations

from collections.abc import Iterable

from auth.dev_token import VENDOR_CLIENT_ID, DemoAccount
from kyodo.text_table import format_table

HEADERS = ("id", "name", "municipality", "roles", "card", "scopes")


def account_table(accounts: Iterable[DemoAccount], vendor_scopes: Iterable[str] = ()) -> str:
    rows = [(a.id, a.name, f"{a.municipality} {a.municipality_name}".strip(), ",".join(a.roles),
             "yes" if a.has_card else "-", " ".join(a.scopes) or "-") for a in accounts]
    rows.append(("--vendor", f"client {VENDOR_CLIENT_ID}", "-", "vendor", "-", " ".join(vendor_scopes) or "-"))
    return format_table(HEADERS, rows)
