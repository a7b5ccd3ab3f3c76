"""The dev IdP as a Starlette app: discovery, JWKS, /authorize (sign-in form), /token, /revoke (RFC 7009),
/introspect (RFC 7662), /card/challenge for the card reader, and /admin/rotate-key to rotate the signing key live.

Brakes (auth/throttle.py): wrong passwords lock the account (per caller address, and for every address after many
more failures) with doubling backoff; failed sign-ins are rate-limited per address; a card challenge needs the
reader's client credentials and is rate-limited per reader; token issuance is rate-limited per account."""

from __future__ import annotations

import html
import logging
import os
import secrets
import time
from pathlib import Path

from authlib.oauth2.rfc6749.errors import OAuth2Error
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from auth.idp.card_certificates import CardAuthority, load_or_create_card_authority
from auth.idp.card_links import roster_card_links
from auth.idp.clients import CARD_PIN_GRANT, CARD_TAP_GRANT, default_clients
from auth.idp.grants import issuance_limiter
from auth.idp.directory import ACCOUNTS, TRIAL_ACCOUNTS, SignedInUser, check_password, find_account
from subgraphs.common.municipality import MUNICIPALITIES
from subgraphs.common.trial_roster import trial_guardian
from auth.idp.server import KyodoAuthorizationServer, oauth2_request
from auth.idp.signing_keys import ALGORITHM, SigningKeyRing
from auth.throttle import Clock, FailureLockout, RateLimiter

log = logging.getLogger("kyodo.idp")

DEFAULT_AUDIENCE = "urn:kyodo:gateway"
DEFAULT_STATE_DIR = Path("var/idp")
LOOPBACK_ORIGIN = r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?"
_OAUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
                 "code_challenge_method", "prompt")


def discovery_document(issuer: str, server: KyodoAuthorizationServer) -> dict:
    scopes = sorted({scope for client in server.clients.values() for scope in client.scopes})
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "revocation_endpoint": f"{issuer}/revoke",
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint": f"{issuer}/introspect",
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", CARD_TAP_GRANT,
                                  CARD_PIN_GRANT],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "claims_supported": ["sub", "name", "muni", "roles", "scope", "acr", "amr", "auth_time"],
        "acr_values_supported": ["password", "card-tap", "card-pin"],
    }


def _login_page(params: dict[str, str], error: str | None = None) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    options = "".join(
        f'<option value="{html.escape(a.sub)}">{html.escape(a.name)} — {html.escape(",".join(a.roles))} '
        f'({html.escape(a.municipality)})</option>'
        for a in ACCOUNTS.values()
    )
    # a trial (試用) guardian per municipality: synthetic, answered from the sandboxes only
    trial = "".join(
        f'<option value="{html.escape(a.sub)}">{html.escape(a.name)} — 試用 ({html.escape(a.municipality)})</option>'
        for a in (TRIAL_ACCOUNTS[trial_guardian(code).id] for code in MUNICIPALITIES)
    )
    options += f'<optgroup label="試用 trial sandbox">{trial}</optgroup>'
    message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    body = (
        "<!doctype html><html lang='ja'><meta charset='utf-8'><title>kyodo dev sign-in</title>"
        "<h1>kyodo dev sign-in</h1><p>Development identity provider. Demo accounts only.</p>"
        f"{message}<form method='post' action='authorize'>{hidden}"
        f"<label>Account <select name='login'>{options}</select></label> "
        "<label>Password <input type='password' name='password'></label> "
        "<button type='submit'>Sign in</button></form></html>"
    )
    return HTMLResponse(body, status_code=400 if error else 200, headers={"Cache-Control": "no-store"})


def write_admin_token(state_dir: Path, token: str) -> Path:
    """The admin token in `<state dir>/admin-token`, readable by its owner only (created 0600, then written)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "admin-token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)    # an older file with wider permissions is narrowed too
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return path


def _too_many(response: Response, retry_after: int) -> Response:
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def create_idp_app(
    issuer: str,
    *,
    audience: str = DEFAULT_AUDIENCE,
    state_dir: str | Path = DEFAULT_STATE_DIR,
    card_authority: CardAuthority | None = None,
    admin_token: str | None = None,
    access_token_lifetime: int = 300,
    clock: Clock = time.monotonic,
) -> Starlette:
    issuer = issuer.rstrip("/")
    server = KyodoAuthorizationServer(
        issuer=issuer,
        audience=audience,
        clients=default_clients(),
        keys=SigningKeyRing(),
        card_authority=card_authority or load_or_create_card_authority(state_dir),
        card_links=roster_card_links(),
        access_token_lifetime=access_token_lifetime,
        client_lockout=FailureLockout(clock=clock),
        issuance_limit=issuance_limiter(clock),
    )
    from auth.idp.registered_clients import RegisteredClients

    server.registered = RegisteredClients(Path(state_dir))   # `kyodo co-use register-client` writes there
    # wrong passwords: per account and address (5, then backoff), per account from anywhere (50), and any
    # failed sign-in counts against the caller's address (a spray over many accounts is slowed as well)
    password_lockout = FailureLockout(threshold=5, clock=clock)
    account_lockout = FailureLockout(threshold=50, base_lock=60.0, clock=clock)
    failed_sign_ins = RateLimiter(per_second=0.2, burst=20, clock=clock)
    # a busy shelter door taps every few seconds; a flood with a stolen reader secret stays bounded
    challenge_limit = RateLimiter(per_second=20.0, burst=100, clock=clock)
    admin = admin_token or os.environ.get("KYODO_IDP_ADMIN_TOKEN") or secrets.token_urlsafe(24)
    # The admin bearer token is never printed or logged: an operator reads it from this 0600 file.
    admin_token_file = write_admin_token(Path(state_dir), admin)

    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse(discovery_document(issuer, server))

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(server.keys.public_jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def authorize(request: Request) -> Response:
        oauth_request = await oauth2_request(request)
        if request.method == "GET":
            try:
                server.get_consent_grant(oauth_request, end_user=None)
            except OAuth2Error as error:
                return server.handle_error_response(oauth_request, error)
            params = {k: v for k, v in oauth_request.payload.data.items() if k in _OAUTH_PARAMS}
            return _login_page(params)
        form = oauth_request.form
        login = str(form.get("login", ""))[:128]
        address = request.client.host if request.client else ""
        params = {k: v for k, v in oauth_request.payload.data.items() if k in _OAUTH_PARAMS}
        wait = max(password_lockout.retry_after(f"{login}|{address}"), account_lockout.retry_after(login))
        if wait:
            return _too_many(_login_page(params, "Too many failed sign-ins; try again later."), wait)
        account = find_account(login)
        if not check_password(account, form.get("password", "")):
            password_lockout.failed(f"{login}|{address}")
            account_lockout.failed(login)
            wait = failed_sign_ins.take(address)
            if wait:
                return _too_many(_login_page(params, "Too many failed sign-ins; try again later."), wait)
            return _login_page(params, "Unknown account or wrong password.")
        password_lockout.succeeded(f"{login}|{address}")
        user = SignedInUser(account, "password", ("pwd",), int(time.time()))
        try:
            grant = server.get_consent_grant(oauth_request, end_user=user)
        except OAuth2Error as error:
            return server.handle_error_response(oauth_request, error)
        return server.create_authorization_response(oauth_request, grant_user=user, grant=grant)

    async def token(request: Request) -> Response:
        return server.create_token_response(await oauth2_request(request))

    async def revoke(request: Request) -> Response:
        return server.create_endpoint_response("revocation", await oauth2_request(request))

    async def introspect(request: Request) -> Response:
        return server.create_endpoint_response("introspection", await oauth2_request(request))

    async def card_challenge(request: Request) -> Response:
        """Only an authenticated card reader gets challenges, each bound to it and rate-limited per reader:
        nobody else can fill the challenge store and starve the real reader."""
        oauth_request = await oauth2_request(request)
        try:
            client = server.authenticate_client(oauth_request, ["client_secret_basic", "client_secret_post"],
                                                "card_challenge")
        except OAuth2Error as error:
            return server.handle_error_response(oauth_request, error)
        if not client.check_grant_type(CARD_TAP_GRANT):
            return JSONResponse({"error": "unauthorized_client"}, status_code=403)
        wait = challenge_limit.take(client.get_client_id())
        if wait:
            return _too_many(JSONResponse({"error": "too_many_requests"}), wait)
        challenge = server.store.new_challenge(client.get_client_id())
        return JSONResponse({"challenge": challenge, "expires_in": 60}, headers={"Cache-Control": "no-store"})

    async def rotate_key(request: Request) -> JSONResponse:
        supplied = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(supplied.encode(), admin.encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        key = server.keys.rotate()
        return JSONResponse({"kid": key.kid})

    app = Starlette(routes=[
        Route("/.well-known/openid-configuration", discovery),
        Route("/.well-known/oauth-authorization-server", discovery),
        Route("/jwks", jwks),
        Route("/authorize", authorize, methods=["GET", "POST"]),
        Route("/token", token, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
        Route("/introspect", introspect, methods=["POST"]),
        Route("/card/challenge", card_challenge, methods=["POST"]),
        Route("/admin/rotate-key", rotate_key, methods=["POST"]),
    ])
    # The playground (a browser page on another loopback port) exchanges its code at /token and
    # reads discovery, so loopback origins may read these answers; no credentials (cookies) involved.
    app.add_middleware(CORSMiddleware, allow_origin_regex=LOOPBACK_ORIGIN, allow_methods=["GET", "POST"],
                       allow_headers=["content-type"])
    app.state.server = server
    app.state.admin_token = admin
    app.state.admin_token_file = admin_token_file
    return app
