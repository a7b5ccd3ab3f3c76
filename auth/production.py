"""Production mode: no silent development fallback for a secret.

`KYODO_ENV=production` (the docker image sets it) turns every "dev default in code" into a refusal to start:
the card-serial pepper must come from `KYODO_CARD_PEPPER`, the gateway's context-signing key must already exist
(it is never generated on the fly), and a subgraph must be told where the gateway's public keys are
(`KYODO_GATEWAY_JWKS`). Anything else is development, where the defaults keep `make dev` a single command.
"""

from __future__ import annotations

import os

ENV_VARIABLE = "KYODO_ENV"
PRODUCTION = "production"
# a pepper is an HMAC key: at least 128 bits, written as at least 32 characters
MIN_SECRET_LENGTH = 32


class ProductionConfigError(RuntimeError):
    """A production process is missing a secret or key it must not invent."""


def is_production() -> bool:
    return os.environ.get(ENV_VARIABLE, "").strip().lower() == PRODUCTION


def required_secret(name: str, dev_default: str) -> str:
    """`$name`; in production its absence (or a short or dev value) stops the process instead of falling back."""
    value = os.environ.get(name)
    if not is_production():
        return value or dev_default
    if not value or value == dev_default or len(value) < MIN_SECRET_LENGTH:
        raise ProductionConfigError(
            f"{ENV_VARIABLE}=production needs {name}: a secret of at least {MIN_SECRET_LENGTH} characters "
            "(the development default is refused)")
    return value


def required_setting(name: str, what: str) -> str | None:
    """`$name`, which production must set explicitly (development may leave it to a default)."""
    value = os.environ.get(name)
    if is_production() and not value:
        raise ProductionConfigError(f"{ENV_VARIABLE}=production needs {name} ({what})")
    return value
