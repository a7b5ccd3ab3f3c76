"""Who can sign in at the dev IdP: the roster's residents and staff, and the demo clients.

Residents sign in as themselves (`sub` = their pseudonymous roster id); a resident with
children also has the `guardian` role. Staff get the scopes the roster gives them. Every demo
account shares one dev password (`KYODO_IDP_DEV_PASSWORD`, default below): this IdP exists only
for development and tests.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from subgraphs.common.roster import ROSTER, STAFF, children_of

DEV_PASSWORD_DEFAULT = "kyodo-dev"
BASE_SCOPES = ("openid", "profile", "offline_access")


def dev_password() -> str:
    return os.environ.get("KYODO_IDP_DEV_PASSWORD", DEV_PASSWORD_DEFAULT)


@dataclass(frozen=True)
class Account:
    sub: str
    name: str
    municipality: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]  # what this account may be granted (intersected with the request)

    def get_user_id(self) -> str:  # authlib's user protocol
        return self.sub


def _resident_accounts() -> dict[str, Account]:
    accounts = {}
    for person in ROSTER:
        roles = ("resident", "guardian") if children_of(person.id) else ("resident",)
        accounts[person.id] = Account(person.id, person.name, person.municipality_code, roles, BASE_SCOPES)
    return accounts


def _staff_accounts() -> dict[str, Account]:
    return {
        member.id: Account(member.id, member.name, member.municipality_code, ("staff",), BASE_SCOPES + member.scopes)
        for member in STAFF
    }


ACCOUNTS: dict[str, Account] = {**_resident_accounts(), **_staff_accounts()}


def _trial_accounts() -> dict[str, Account]:
    """Synthetic trial residents of every municipality (subgraphs/common/trial_roster.py), with the `trial` role:
    the subgraphs answer them from the sandbox only. Not on the sign-in page's list; `kyodo token --trial`."""
    from subgraphs.common.municipality import MUNICIPALITIES
    from subgraphs.common.sandbox import TRIAL_ROLE
    from subgraphs.common.trial_roster import trial_people

    accounts = {}
    for code in MUNICIPALITIES:
        people = trial_people(code)
        for person in people:
            guardian = any(person.id in p.guardian_ids for p in people)
            roles = ("resident", "guardian", TRIAL_ROLE) if guardian else ("resident", TRIAL_ROLE)
            accounts[person.id] = Account(person.id, person.name, code, roles, BASE_SCOPES)
    return accounts


TRIAL_ACCOUNTS: dict[str, Account] = _trial_accounts()


def find_account(sub: str) -> Account | None:
    return ACCOUNTS.get(sub) or TRIAL_ACCOUNTS.get(sub)


def check_password(account: Account | None, password: str) -> bool:
    return account is not None and secrets.compare_digest(password.encode(), dev_password().encode())


@dataclass(frozen=True)
class SignedInUser:
    """An account plus how it signed in; carried through codes and refresh tokens."""

    account: Account
    acr: str            # "password" or "card-tap"
    amr: tuple[str, ...]
    auth_time: int
    scopes: tuple[str, ...] = field(default=())

    def get_user_id(self) -> str:
        return self.account.sub
