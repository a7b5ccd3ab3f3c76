"""Who may change the safety platform's operational data.

Open data (facilities, sensors, gauges) is read by anyone. Changing it takes staff of the facility's
own municipality holding `safety:write`, where that municipality has joined the platform; a device
(flood sensor, gauge, tag detector) may report only as itself (its principal subject is its id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import co_use
from subgraphs.common.errors import Forbidden, Unauthenticated

PLATFORM = "safety"
READ_SCOPE = f"{PLATFORM}:read"
WRITE_SCOPE = f"{PLATFORM}:write"


def _require_principal(principal: Any | None) -> Any:
    if principal is None:
        raise Unauthenticated("this operation needs a caller vouched for by the gateway")
    if "vendor" in principal.roles:
        raise Forbidden("vendors cannot change or see safety operations data")
    return principal


def is_staff_of(principal: Any | None, municipality_code: str, scope: str) -> bool:
    return (
        principal is not None
        and "staff" in principal.roles
        and "vendor" not in principal.roles
        and principal.municipality == municipality_code
        and scope in principal.scopes
    )


async def require_staff(session: AsyncSession, principal: Any | None, municipality_code: str, *,
                        write: bool) -> Any:
    """Staff of `municipality_code` with safety:read/write, municipality joined; usage counted."""
    principal = _require_principal(principal)
    scope = WRITE_SCOPE if write else READ_SCOPE
    if not is_staff_of(principal, municipality_code, scope):
        raise Forbidden(f"needs staff of {municipality_code} holding {scope}")
    await co_use.ensure_joined(session, PLATFORM, municipality_code)
    await co_use.count_usage(session, PLATFORM, municipality_code)
    return principal


async def require_device_or_staff(session: AsyncSession, principal: Any | None, device_id: str,
                                  municipality_code: str) -> Any:
    """The device itself (role device, subject = its id), or staff who may write for its municipality."""
    principal = _require_principal(principal)
    if "device" in principal.roles and principal.subject == device_id:
        await co_use.ensure_joined(session, PLATFORM, municipality_code)
        await co_use.count_usage(session, PLATFORM, municipality_code)
        return principal
    return await require_staff(session, principal, municipality_code, write=True)
