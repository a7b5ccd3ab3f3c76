"""OIDC clients a municipality registers for its own services (`kyodo co-use register-client CODE NAME`).

Yabu offers its personal-data store (identity) alone (issue 11 item 5): a member municipality's own service — a
library, a sports-facility booking site — signs its residents in with the My Number Card at this IdP and links
its own account id to the resident (`linkServiceAccount`, subgraphs/identity/service_links.py).

* The client id says whose it is: `muni-<6-digit code>-<name>`. identity reads the municipality from it and links
  only that municipality's residents.
* Grants: the card tap and card + PIN grants (the service's own reader signs a resident in), and authorization
  code for a browser sign-in. Scopes: `openid profile`. A token of this client carries no staff role and no
  platform scope: all it can do beyond the resident's own data is the link.
* The secret is printed once and stored only as a SHA-256 hash in `<state dir>/registered-clients.json` (0600).
  The IdP reads that file again whenever it changes, so a running dev IdP knows a new client at once.
In production the same registration is a client in the Keycloak realm (docs/co-use.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from auth.idp.clients import CARD_PIN_GRANT, CARD_TAP_GRANT, Client

FILE_NAME = "registered-clients.json"
CLIENT_PREFIX = "muni-"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
SCOPES = ("openid", "profile")


class RegistrationError(ValueError):
    """Why a client could not be registered, in one line."""


def client_id_for(code: str, name: str) -> str:
    return f"{CLIENT_PREFIX}{code}-{name}"


def municipality_of_client(client_id: str | None) -> str | None:
    """The municipality a registered service client belongs to ("muni-282227-library" -> "282227"), else None."""
    if not client_id or not client_id.startswith(CLIENT_PREFIX):
        return None
    code = client_id[len(CLIENT_PREFIX):len(CLIENT_PREFIX) + 6]
    rest = client_id[len(CLIENT_PREFIX) + 6:]
    return code if code.isdigit() and rest.startswith("-") and NAME_PATTERN.match(rest[1:]) else None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredClient(Client):
    secret_sha256: str = ""

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.secret_sha256) and secrets.compare_digest(self.secret_sha256, _hash(client_secret or ""))


def _client(entry: dict) -> RegisteredClient:
    return RegisteredClient(
        client_id=entry["client_id"], client_secret=None, secret_sha256=entry["secret_sha256"],
        grant_types=(CARD_TAP_GRANT, CARD_PIN_GRANT, "authorization_code"), response_types=("code",),
        redirect_uris=tuple(entry.get("redirect_uris") or ()), scopes=SCOPES, default_scope="openid",
        municipality=entry["municipality"])


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else []


def register_client(state_dir: Path, code: str, name: str, *, redirect_uris: list[str] | None = None) -> tuple[str, str]:
    """Register `muni-<code>-<name>`; returns (client id, secret). The secret is not kept, only its hash."""
    from subgraphs.common.municipality import MUNICIPALITIES

    if code not in MUNICIPALITIES:
        raise RegistrationError(f"unknown municipality code {code!r}")
    if not NAME_PATTERN.match(name):
        raise RegistrationError(f"name {name!r}: 2-32 characters, lower-case letters, digits and '-'")
    for uri in redirect_uris or ():
        if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise RegistrationError(f"redirect URI {uri!r} must be https (or loopback http for development)")
    path = Path(state_dir) / FILE_NAME
    entries = _read(path)
    client_id = client_id_for(code, name)
    if any(entry["client_id"] == client_id for entry in entries):
        raise RegistrationError(f"{client_id} is registered already")
    secret = secrets.token_urlsafe(32)
    entries.append({"client_id": client_id, "municipality": code, "name": name, "secret_sha256": _hash(secret),
                    "redirect_uris": list(redirect_uris or ()),
                    "registered_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(entries, out, ensure_ascii=False, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)    # all or nothing: the IdP never reads half a file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return client_id, secret


class RegisteredClients:
    """The registered clients of one state dir, read again when the file changes."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self._stamp: tuple[int, int] | None = None
        self._clients: dict[str, RegisteredClient] = {}

    def get(self, client_id: str) -> RegisteredClient | None:
        if not client_id.startswith(CLIENT_PREFIX):
            return None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._clients = {entry["client_id"]: _client(entry) for entry in _read(self.path)}
            self._stamp = stamp
        return self._clients.get(client_id)
