"""What a subgraph needs to extend identity's `Municipality @key(fields: "code")` with its own fields."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.common import co_use
from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code


class MunicipalityReference:
    """Mixin for a subgraph's `Municipality` stub: a reference by a valid code (5 or 6 digits) becomes the stub
    with the 6-digit code; an invalid code resolves to null."""

    @classmethod
    def resolve_reference(cls, code: strawberry.ID, **_: Any) -> Any:
        try:
            return cls(code=strawberry.ID(normalize_code(str(code))))  # type: ignore[call-arg]
        except InvalidMunicipalityCode:
            return None


async def platform_joined(info: Info, platform: str, code: str) -> bool:
    """Whether the municipality has joined `platform` (co-use), read in its own transaction."""
    async with info.context.transaction() as session:
        return await co_use.joined(session, platform, code)
