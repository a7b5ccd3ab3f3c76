"""Field-level authorization from the supergraph's `@authenticated`, `@requiresScopes`, `@policy`."""

from __future__ import annotations

from gateway.authorization.authorize import (
    UNAUTHORIZED_CODE,
    AuthorizationResult,
    PolicyHook,
    authorize,
    requirements_for,
)
from gateway.authorization.response import null_removed_fields

__all__ = [
    "UNAUTHORIZED_CODE",
    "AuthorizationResult",
    "PolicyHook",
    "authorize",
    "null_removed_fields",
    "requirements_for",
]
