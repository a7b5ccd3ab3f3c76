"""Access tokens from a running dev IdP for the demo accounts (`kyodo token`).

Each kind of account signs in the way its real client would, over HTTP:

* resident / staff: the `kyodo-web` public client, authorization code + PKCE (S256), the sign-in
  form posted with the dev password (the redirect is read, not followed: nothing listens there);
* vendor: the `kyodo-vendor` client, client credentials;
* card: the `kyodo-card-reader` client taps the resident's demo card (card-tap grant).

Every failure is a `DevTokenError` with one line saying what to do.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from auth.idp.directory import ACCOUNTS, Account, dev_password

DEFAULT_ISSUER = "http://127.0.0.1:4400"
WEB_CLIENT_ID = "kyodo-web"
VENDOR_CLIENT_ID = "kyodo-vendor"
VENDOR_SECRET_ENV = "KYODO_IDP_VENDOR_SECRET"
# Registered for kyodo-web; any loopback port is accepted, and the CLI never follows the redirect.
CLI_REDIRECT_URI = "http://127.0.0.1:8400/callback"
# What a resident or staff token asks for; the IdP grants only what the account holds.
ACCOUNT_SCOPE = (
    "openid profile childcare:read childcare:write safety:read safety:write currency:read "
    "currency:write identity:read identity:write audit:read childcare:audit safety:audit currency:audit "
    "identity:audit voting:admin childcare:co-use safety:co-use currency:co-use identity:co-use"
)
TIMEOUT_SECONDS = 10.0


class DevTokenError(Exception):
    """Why no token could be had, in one line."""


@dataclass(frozen=True)
class DemoAccount:
    id: str
    name: str
    municipality: str        # 6-digit code
    municipality_name: str
    roles: tuple[str, ...]
    has_card: bool           # a demo My Number Card is linked (`--card` works)
    scopes: tuple[str, ...] = ()   # what the account may be granted (a token carries those it asked for)


def demo_accounts() -> list[DemoAccount]:
    """Every account the dev IdP signs in (residents, then staff), from the one roster."""
    from subgraphs.common.municipality import MUNICIPALITIES
    from subgraphs.common.roster import has_demo_card, person

    def holds_card(account_id: str) -> bool:
        resident = person(account_id)
        return resident is not None and has_demo_card(resident)

    def named(code: str) -> str:
        known = MUNICIPALITIES.get(code)
        return known.name if known else ""

    return [DemoAccount(a.sub, a.name, a.municipality, named(a.municipality), a.roles, holds_card(a.sub), a.scopes)
            for a in ACCOUNTS.values()]


def vendor_scopes() -> tuple[str, ...]:
    from auth.idp.clients import default_clients

    return default_clients()[VENDOR_CLIENT_ID].scopes


def _trial_account(code: str) -> Account:
    """The synthetic trial guardian of municipality `code` (5 or 6 digits)."""
    from auth.idp.directory import TRIAL_ACCOUNTS
    from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code
    from subgraphs.common.trial_roster import trial_guardian

    try:
        normalized = normalize_code(code)
    except InvalidMunicipalityCode as error:
        raise DevTokenError(f"--trial needs a municipality code: {error}") from None
    account = TRIAL_ACCOUNTS.get(trial_guardian(normalized).id)
    if account is None:
        raise DevTokenError(f"no trial residents for {normalized}; it is not a known municipality")
    return account


def _account(account_id: str, kind: str) -> Account:
    account = ACCOUNTS.get(account_id)
    wanted_staff = kind == "staff"
    if account is None or ("staff" in account.roles) != wanted_staff:
        raise DevTokenError(f"unknown {kind} {account_id!r}; `kyodo token --list` shows the demo accounts")
    return account


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("error"):
        return f"{body['error']}: {body.get('error_description', '')}".rstrip(": ")
    return f"HTTP {response.status_code}"


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _access_token(response: httpx.Response, what: str) -> str:
    if response.status_code != 200:
        raise DevTokenError(f"the dev IdP refused {what}: {_error_of(response)}")
    token = response.json().get("access_token")
    if not isinstance(token, str):
        raise DevTokenError(f"the dev IdP answered {what} without an access token")
    return token


async def _sign_in_with_password(client: httpx.AsyncClient, issuer: str, account: Account) -> str:
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {"response_type": "code", "client_id": WEB_CLIENT_ID, "redirect_uri": CLI_REDIRECT_URI,
              "scope": ACCOUNT_SCOPE, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    form_page = await client.get(f"{issuer}/authorize", params=params)
    if form_page.status_code != 200:
        raise DevTokenError(f"the dev IdP refused the sign-in request: {_error_of(form_page)}")
    answer = await client.post(f"{issuer}/authorize",
                               data={**params, "login": account.sub, "password": dev_password()})
    location = answer.headers.get("location", "") if answer.status_code in (302, 303) else ""
    query = parse_qs(urlsplit(location).query)
    if not location.startswith(CLI_REDIRECT_URI) or query.get("state") != [state] or "code" not in query:
        hint = " (wrong dev password? see KYODO_IDP_DEV_PASSWORD)" if answer.status_code == 400 else ""
        raise DevTokenError(f"the dev IdP did not sign in {account.sub}{hint}")
    response = await client.post(f"{issuer}/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": CLI_REDIRECT_URI,
        "client_id": WEB_CLIENT_ID, "code_verifier": verifier,
    })
    return _access_token(response, f"the code for {account.sub}")


async def _vendor_token(client: httpx.AsyncClient, issuer: str) -> str:
    secret = os.environ.get(VENDOR_SECRET_ENV, "kyodo-vendor-dev-secret")
    response = await client.post(f"{issuer}/token", data={"grant_type": "client_credentials"},
                                 auth=(VENDOR_CLIENT_ID, secret))
    if response.status_code == 401 or _error_code(response) == "invalid_client":
        # The IdP's own words ("cannot authenticate with methods: …") do not say what to change.
        raise DevTokenError(
            f"the dev IdP refused the secret of client {VENDOR_CLIENT_ID}: give `kyodo token --vendor` the same "
            f"{VENDOR_SECRET_ENV} as the IdP (both default to the dev secret when it is unset)")
    return _access_token(response, "the vendor's client credentials")


def _card_holder(resident_id: str) -> Account:
    from subgraphs.common.roster import has_demo_card, person

    account = _account(resident_id, "resident")
    holder = person(resident_id)
    if holder is None or not has_demo_card(holder):
        raise DevTokenError(f"resident {resident_id!r} has no demo card; `kyodo token --list` marks those who do")
    return account


async def _card_token(client: httpx.AsyncClient, issuer: str, resident_id: str, state_dir: Path) -> str:
    from auth.idp.card_certificates import demo_card_for, load_or_create_card_authority
    from auth.idp.card_reader import tap_card

    _card_holder(resident_id)
    # The card authority is the IdP's own (same state dir); creating a new one here would only
    # give cards the IdP refuses.
    if not (state_dir / "card-ca.pem").is_file():
        raise DevTokenError(f"no dev card authority in {state_dir}; give the dev IdP's --state-dir")
    card = demo_card_for(load_or_create_card_authority(state_dir), resident_id, 1)
    secret = os.environ.get("KYODO_IDP_CARD_READER_SECRET", "kyodo-card-reader-dev-secret")
    return _access_token(await tap_card(client, issuer, card, reader_secret=secret),
                         f"the card tap for {resident_id}")


async def dev_token(
    issuer: str = DEFAULT_ISSUER,
    *,
    resident: str | None = None,
    staff: str | None = None,
    vendor: bool = False,
    card: str | None = None,
    trial: str | None = None,
    state_dir: str | Path | None = None,
) -> str:
    """An access token for exactly one of the account kinds; raises DevTokenError."""
    chosen = [kind for kind, value in (("resident", resident), ("staff", staff), ("card", card),
                                       ("vendor", vendor), ("trial", trial)) if value]
    if len(chosen) != 1:
        raise DevTokenError("choose one of --resident ID, --staff ID, --vendor, --card ID, --trial CODE")
    # Unknown accounts are refused before any network traffic.
    account = _account(resident, "resident") if resident else _account(staff, "staff") if staff else \
        _trial_account(trial) if trial else None
    if card:
        _card_holder(card)
    issuer = issuer.rstrip("/")
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
        await _check_issuer(client, issuer)
        if account is not None:
            return await _sign_in_with_password(client, issuer, account)
        if card:
            return await _card_token(client, issuer, card, Path(state_dir) if state_dir else _default_state_dir())
        return await _vendor_token(client, issuer)


def _default_state_dir() -> Path:
    from kyodo.home import var_dir

    return var_dir() / "idp"


async def _check_issuer(client: httpx.AsyncClient, issuer: str) -> None:
    where = f"{issuer}/.well-known/openid-configuration"
    try:
        response = await client.get(where)
    except httpx.HTTPError as error:
        raise DevTokenError(
            f"no dev IdP answers at {issuer} ({type(error).__name__}); start it with `kyodo idp` or `make dev`"
        ) from None
    if response.status_code != 200:
        raise DevTokenError(f"{where} answered HTTP {response.status_code}; is {issuer} a kyodo dev IdP?")
    try:
        advertised = response.json().get("issuer")
    except ValueError:
        advertised = None
    if advertised != issuer:
        raise DevTokenError(f"{issuer} is not a kyodo dev IdP (its discovery names issuer {advertised!r})")
