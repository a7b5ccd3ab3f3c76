"""Where the relay finds identity, the gateway and the IdP, and who it is there (environment, dev defaults).

Read with pydantic-settings from the environment (`KYODO_RELAY_IDENTITY_URL`, `KYODO_RELAY_GATEWAY_URL`, `KYODO_RELAY_ISSUER`,
`KYODO_RELAY_CLIENT_ID`, `KYODO_RELAY_BATCH`, `KYODO_IDP_GRANT_RELAY_SECRET`); command-line values
win over the environment. A bad value is a `SettingsError` naming the variable, on one line.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.settings import SettingsError, describe_validation_error

DEFAULT_GATEWAY = "http://127.0.0.1:4000/graphql"
DEFAULT_IDENTITY = "http://127.0.0.1:4104/graphql"   # the identity subgraph itself (its outbox operations)
DEFAULT_ISSUER = "http://127.0.0.1:4400"
CLIENT_ID = "kyodo-grant-relay"
DEV_SECRET = "kyodo-grant-relay-dev-secret"   # the dev IdP's default (auth/idp/clients.py)
SCOPE = "currency:grant identity:grant-relay"


def _from(name: str, variable: str) -> Any:
    return AliasChoices(name, variable)


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid", populate_by_name=True, case_sensitive=True)

    # the identity subgraph's GraphQL endpoint: the outbox operations are @inaccessible, so asked there directly
    identity_url: str = Field(DEFAULT_IDENTITY, validation_alias=_from("identity_url", "KYODO_RELAY_IDENTITY_URL"))
    # the gateway's GraphQL endpoint (currency's grantPoints)
    gateway_url: str = Field(DEFAULT_GATEWAY, validation_alias=_from("gateway_url", "KYODO_RELAY_GATEWAY_URL"))
    # the OIDC issuer that knows the relay's client
    issuer: str = Field(DEFAULT_ISSUER, validation_alias=_from("issuer", "KYODO_RELAY_ISSUER"))
    client_id: Annotated[str, Field(min_length=1)] = Field(
        CLIENT_ID, validation_alias=_from("client_id", "KYODO_RELAY_CLIENT_ID"))
    client_secret: Annotated[str, Field(min_length=1)] = Field(
        DEV_SECRET, validation_alias=_from("client_secret", "KYODO_IDP_GRANT_RELAY_SECRET"), repr=False)
    batch: Annotated[int, Field(gt=0, le=1000)] = Field(50, validation_alias=_from("batch", "KYODO_RELAY_BATCH"))  # requests read per round

    @field_validator("gateway_url", "identity_url", "issuer")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_without_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def from_env(cls, *, gateway_url: str | None = None, issuer: str | None = None,
                 batch: int | None = None, identity_url: str | None = None) -> RelaySettings:
        given = {name: value for name, value in
                 (("gateway_url", gateway_url), ("issuer", issuer), ("batch", batch), ("identity_url", identity_url))
                 if value is not None}
        try:
            return cls(**given)
        except ValidationError as error:
            field = str(error.errors()[0]["loc"][0])
            line = describe_validation_error(error)
            if field not in given and field in cls.model_fields:
                # The value came from the environment: name the variable the operator set.
                line = f"{cls.model_fields[field].validation_alias.choices[1]}{line[len(field):]}"  # type: ignore[union-attr]
            raise SettingsError(f"relay settings: {line}") from None
