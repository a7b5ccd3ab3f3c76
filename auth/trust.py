"""Issuers as trust domains: what each trusted identity provider may vouch for.

A principal is (issuer, subject). A subject means something only inside its issuer: `r-1` at
Yabu's identity platform is a resident id, `r-1` at a vendor's IdP is whatever that vendor says.
So the gateway never lets two issuers' subjects meet:

* an issuer whose subjects *are* kyodo resident ids (`subjects = "resident-ids"`, the identity
  platform's own IdP) keeps them as they are;
* every other issuer's subject becomes `"<name>#<subject>"` (`name` is the issuer's short alias),
  which can equal no resident id, unless an explicit link table maps that (issuer, subject) to a
  resident id (one resident, accounts at two IdPs, linked on purpose by the city).

Each issuer also says which municipalities, roles and scopes it may assert (`fnmatch` patterns,
so `"childcare:*"` works). Anything beyond that is dropped, with a log line naming the issuer, and
a municipality the issuer may not vouch for takes the municipality-bound roles (staff) with it.

```toml
[[auth.issuers]]
issuer = "https://vendor-idp.example"
audience = "urn:kyodo:gateway"
[auth.issuers.trust]
name = "vendor"                      # alias used in namespaced subjects; letters, digits, - _ .
subjects = "namespaced"              # or "resident-ids" (only the identity platform's IdP)
municipalities = []                  # 6-digit codes, or ["*"]
roles = ["vendor"]
scopes = ["currency:merchant"]
links = { "acct-17" = "r-258f70da9558" }   # this issuer's subject -> resident id
```

An issuer configured without a `trust` table is trusted fully only when it is the gateway's one
and only issuer (the single-IdP deployments and tests); with two or more issuers every one of
them must declare its trust, otherwise the gateway refuses to start.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable, Mapping

from auth.principal import Principal

log = logging.getLogger("kyodo.auth.trust")

NAMESPACE_SEPARATOR = "#"
RESIDENT_SUBJECTS = "resident-ids"
NAMESPACED_SUBJECTS = "namespaced"
# Roles that mean something only together with the municipality the token names.
MUNICIPAL_ROLES = frozenset({"staff"})
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_TRUST_KEYS = {"name", "subjects", "municipalities", "roles", "scopes", "links", "links_file"}


class TrustConfigError(ValueError):
    pass


def _patterns(value: Any, what: str, issuer: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TrustConfigError(f"trust.{what} of issuer {issuer} must be a list of strings")
    return tuple(value)


def _allowed(value: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(value, pattern) for pattern in patterns)


def read_links_file(path: str | Path) -> dict[str, str]:
    """A JSON object {"<issuer subject>": "<resident id>"}; kept outside the gateway config so a city
    can manage it separately (it is personal data: keep it 0600)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise TrustConfigError(f"{path} must hold a JSON object of subject -> resident id strings")
    return data


@dataclass(frozen=True)
class IssuerTrust:
    """What one issuer may vouch for. The default (`full()`) trusts everything: single-issuer setups only."""

    name: str
    subjects: str = NAMESPACED_SUBJECTS
    municipalities: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    links: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def full(cls) -> IssuerTrust:
        return cls(name="", subjects=RESIDENT_SUBJECTS, municipalities=("*",), roles=("*",), scopes=("*",))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], issuer: str) -> IssuerTrust:
        unknown = set(data) - _TRUST_KEYS
        if unknown:
            raise TrustConfigError(f"unknown trust key(s) for issuer {issuer}: {', '.join(sorted(unknown))}")
        name = data.get("name")
        if not isinstance(name, str) or not _ALIAS.fullmatch(name):
            raise TrustConfigError(f"issuer {issuer} needs trust.name: a short alias of letters, digits, - _ .")
        subjects = data.get("subjects", NAMESPACED_SUBJECTS)
        if subjects not in (RESIDENT_SUBJECTS, NAMESPACED_SUBJECTS):
            raise TrustConfigError(f"trust.subjects of issuer {issuer} must be "
                                   f"'{RESIDENT_SUBJECTS}' or '{NAMESPACED_SUBJECTS}'")
        links = dict(data.get("links") or {})
        if data.get("links_file"):
            links.update(read_links_file(data["links_file"]))
        if not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in links.items()):
            raise TrustConfigError(f"trust.links of issuer {issuer} must map subject strings to resident ids")
        return cls(
            name=name,
            subjects=subjects,
            municipalities=_patterns(data.get("municipalities"), "municipalities", issuer),
            roles=_patterns(data.get("roles"), "roles", issuer),
            scopes=_patterns(data.get("scopes"), "scopes", issuer),
            links=links,
        )

    def resolve_subject(self, subject: str) -> str:
        """The kyodo-wide identity of this issuer's `subject` (see the module docstring)."""
        linked = self.links.get(subject)
        if linked is not None:
            return linked
        if self.subjects == RESIDENT_SUBJECTS:
            if NAMESPACE_SEPARATOR in subject:
                # would impersonate another issuer's namespaced principal
                raise ValueError(f"a subject of this issuer may not contain '{NAMESPACE_SEPARATOR}'")
            return subject
        return f"{self.name}{NAMESPACE_SEPARATOR}{subject}"

    def apply(self, principal: Principal) -> Principal:
        """The principal limited to what this issuer may assert; the drop is logged, never silent."""
        dropped: list[str] = []
        municipality = principal.municipality
        if municipality is not None and not _allowed(municipality, self.municipalities):
            dropped.append(f"municipality {municipality}")
            municipality = None
        roles = frozenset(r for r in principal.roles if _allowed(r, self.roles))
        if municipality is None:
            roles -= MUNICIPAL_ROLES
        dropped += [f"role {r}" for r in sorted(principal.roles - roles)]
        scopes = frozenset(s for s in principal.scopes if _allowed(s, self.scopes))
        dropped += [f"scope {s}" for s in sorted(principal.scopes - scopes)]
        subject = self.resolve_subject(principal.subject)
        if dropped:
            log.warning("issuer %s (%s) asserted beyond its trust for subject %s; dropped: %s",
                        principal.issuer, self.name or "sole issuer", subject[:128], ", ".join(dropped))
        return replace(principal, subject=subject, municipality=municipality, roles=roles, scopes=scopes,
                       issuer_subject=principal.subject if subject != principal.subject else None)


def check_trust_configured(issuers: Iterable[Any]) -> None:
    """With two or more issuers, each must declare its trust and the aliases must differ."""
    issuers = list(issuers)
    if len(issuers) < 2:
        return
    names: dict[str, str] = {}
    for issuer in issuers:
        trust = getattr(issuer, "trust", None)
        if trust is None:
            raise TrustConfigError(
                f"issuer {issuer.issuer} has no [auth.issuers.trust] table: with more than one issuer each must "
                "say which municipalities, roles and scopes it may assert (docs/security.md)")
        if trust.name in names:
            raise TrustConfigError(f"issuers {names[trust.name]} and {issuer.issuer} share the trust name {trust.name}")
        names[trust.name] = issuer.issuer
    if sum(1 for i in issuers if i.trust.subjects == RESIDENT_SUBJECTS) > 1:
        # two issuers both saying "my subjects are resident ids" is exactly the confusion this prevents
        raise TrustConfigError("only one issuer may have trust.subjects = 'resident-ids'")
