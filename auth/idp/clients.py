"""The dev IdP's registered OAuth clients (authlib's ClientMixin).

* `kyodo-web`: a public browser/native client; authorization code with PKCE (S256) only, refresh
  tokens; loopback redirect URIs match on any port (RFC 8252 §7.3).
* `kyodo-vendor`: a merchant's back-end; client credentials; its tokens carry role `vendor`.
* `kyodo-card-reader`: the (simulated) card reader at a counter or shelter; may only use the
  card-tap grant, which signs in the resident whose card was tapped.
* `kyodo-watch-app`: the citizen watch-over app's back-end; client credentials, scope `safety:report`, with which
  it registers each installation at safety (registerWatchApp) before that phone may report sightings.
* `kyodo-gateway`: the resource server; it may only call the introspection endpoint (RFC 7662).
* `kyodo-grant-relay`: the back-end job that relays identity's currency grant requests (subgraphs/grant_relay);
  client credentials; role `integration`, scopes `currency:grant` (make the grant) and
  `identity:grant-relay` (read pending requests, record currency's answer) — nothing personal beyond that.

Secrets come from the environment with dev defaults.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

CARD_TAP_GRANT = "urn:kyodo:params:oauth:grant-type:card-tap"
CARD_PIN_GRANT = "urn:kyodo:params:oauth:grant-type:card-pin"   # auth/idp/card_pin.py
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclass(frozen=True)
class Client(ClientMixin):
    client_id: str
    client_secret: str | None
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()        # roles a token issued to the client itself carries
    municipality: str | None = None
    auth_method: str = "client_secret_basic"
    response_types: tuple[str, ...] = field(default=())
    default_scope: str = ""            # granted when a request names no scope

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return self.default_scope
        allowed = set(self.scopes)
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        if redirect_uri in self.redirect_uris:
            return True
        asked = urlsplit(redirect_uri)
        for registered in self.redirect_uris:
            known = urlsplit(registered)
            if (
                known.hostname in LOOPBACK_HOSTS
                and asked.scheme == known.scheme == "http"
                and asked.hostname == known.hostname
                and asked.path == known.path
                and not asked.fragment
            ):
                return True
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if self.client_secret is None:
            return False
        return secrets.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # The same at every endpoint (token, revocation, introspection): a confidential client must always
        # prove its secret, never pass as a public client by sending only its id.
        return method == self.auth_method or (
            self.auth_method == "client_secret_basic" and method == "client_secret_post"
        )

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


def default_clients() -> dict[str, Client]:
    web = Client(
        client_id="kyodo-web",
        client_secret=None,
        auth_method="none",
        grant_types=("authorization_code", "refresh_token"),
        response_types=("code",),
        # /graphql: the gateway's playground signs in with this client and comes back to itself.
        redirect_uris=("http://127.0.0.1/callback", "http://localhost/callback",
                       "http://127.0.0.1/graphql", "http://localhost/graphql"),
        scopes=("openid", "profile", "offline_access", "childcare:read", "childcare:write", "safety:read",
                "safety:write", "currency:read", "currency:write", "identity:read", "identity:write",
                "audit:read", "voting:admin", "childcare:audit", "safety:audit", "currency:audit",
                "identity:audit", "childcare:co-use", "safety:co-use", "currency:co-use", "identity:co-use"),
        default_scope="openid",
    )
    vendor = Client(
        client_id="kyodo-vendor",
        client_secret=os.environ.get("KYODO_IDP_VENDOR_SECRET", "kyodo-vendor-dev-secret"),
        grant_types=("client_credentials",),
        scopes=("currency:merchant",),
        default_scope="currency:merchant",
        roles=("vendor",),
    )
    reader = Client(
        client_id="kyodo-card-reader",
        client_secret=os.environ.get("KYODO_IDP_CARD_READER_SECRET", "kyodo-card-reader-dev-secret"),
        # no refresh_token grant and no offline_access: a tap signs in for one access token's lifetime only
        grant_types=(CARD_TAP_GRANT, CARD_PIN_GRANT),
        scopes=("openid", "profile"),
        default_scope="openid",
        roles=("device",),
    )
    relay = Client(
        client_id="kyodo-grant-relay",
        client_secret=os.environ.get("KYODO_IDP_GRANT_RELAY_SECRET", "kyodo-grant-relay-dev-secret"),
        grant_types=("client_credentials",),
        scopes=("currency:grant", "identity:grant-relay"),
        default_scope="currency:grant identity:grant-relay",
        roles=("integration",),
    )
    watch_app = Client(
        client_id="kyodo-watch-app",
        client_secret=os.environ.get("KYODO_IDP_WATCH_APP_SECRET", "kyodo-watch-app-dev-secret"),
        grant_types=("client_credentials",),
        scopes=("safety:report",),          # register app instances (subgraphs/safety/watch_tag_trust.py)
        default_scope="safety:report",
        roles=("device",),
    )
    gateway = Client(
        client_id="kyodo-gateway",
        client_secret=os.environ.get("KYODO_IDP_GATEWAY_SECRET", "kyodo-gateway-dev-secret"),
        grant_types=(),           # introspection only (RFC 7662): the resource server asks about tokens
        scopes=(),
    )
    from auth.idp.operator_client import operator_client   # a contracted operator: no personal data

    return {client.client_id: client for client in (web, vendor, reader, relay, watch_app, gateway, operator_client())}
