"""How many subscriptions are open: per principal, and in the whole process (settings.subscriptions).

A slot is taken before the subscription is planned and given back when it ends, however it ends.
The per-connection cap is the WebSocket transport's own (it knows its connection).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from gateway.document import GraphQLRequestError
from gateway.settings import SubscriptionSettings

LIMIT_CODE = "SUBSCRIPTION_LIMIT_EXCEEDED"


def principal_key(principal: Any, client: str | None) -> str:
    """Whom a subscription counts against: the signed-in subject, else the client's address."""
    if principal is not None:
        return f"subject:{principal.subject}"
    return f"address:{client or 'unknown'}"


class SubscriptionLimits:
    def __init__(self, settings: SubscriptionSettings) -> None:
        self.settings = settings
        self.by_principal: Counter[str] = Counter()
        self.total = 0

    def acquire(self, key: str) -> None:
        """Take a slot for `key`, or refuse with a GraphQL error (HTTP 429 where one applies)."""
        if self.total >= self.settings.max_total:
            raise GraphQLRequestError.single(
                "The gateway holds as many subscriptions as it may; try again later.", LIMIT_CODE, status=429)
        if self.by_principal[key] >= self.settings.max_per_principal:
            raise GraphQLRequestError.single(
                f"You have {self.settings.max_per_principal} subscriptions open, the most one caller may hold; "
                "end one first.", LIMIT_CODE, status=429)
        self.by_principal[key] += 1
        self.total += 1

    def release(self, key: str) -> None:
        self.by_principal[key] -= 1
        if self.by_principal[key] <= 0:
            del self.by_principal[key]
        self.total -= 1
