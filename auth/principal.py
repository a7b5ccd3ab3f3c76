"""Who is calling: the `Principal`, and how it is read from a token's claims.

Issuers name things differently (`scope` vs `scp`, `roles` vs `realm_access.roles`, a custom
municipality claim), so the claim names are configuration: a `ClaimMapping` per trusted issuer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

KNOWN_ROLES = frozenset({"resident", "guardian", "staff", "vendor", "device", "operator"})


@dataclass(frozen=True)
class Principal:
    subject: str                 # pseudonymous resident/staff/client id
    municipality: str | None     # 6-digit 全国地方公共団体コード of the home municipality
    roles: frozenset[str]        # resident, guardian, staff, vendor, device
    scopes: frozenset[str]
    assurance: str | None = None  # e.g. "card-tap", "card-pin", "password" (the token's `acr`)
    issuer: str | None = None
    # `subject` is kyodo-wide (auth/trust.py: a resident id, or "<issuer alias>#<sub>");
    # `issuer_subject` is the `sub` exactly as the issuer wrote it, kept only when it differs.
    issuer_subject: str | None = None
    client_id: str | None = None       # the OAuth client the token was issued to (`client_id`/`azp`)
    methods: tuple[str, ...] = ()      # how the person authenticated (`amr`, e.g. "pwd", "sc")

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class ClaimMapping:
    """Where each Principal field comes from. Dotted names reach into nested objects.

    `scopes` lists claim names tried in order (`scope` is a space-separated string per RFC 8693,
    `scp` is often a list); values from every present claim are merged.
    """

    subject: str = "sub"
    # RFC 9068 client-credentials tokens may carry only `client_id`.
    subject_fallback: str = "client_id"
    municipality: str = "muni"
    roles: str = "roles"
    scopes: tuple[str, ...] = ("scope", "scp")
    assurance: str = "acr"
    methods: str = "amr"
    client_id: tuple[str, ...] = ("client_id", "azp")
    # Roles every token of this issuer gets, e.g. ("vendor",) for an issuer used only by vendors.
    default_roles: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ClaimMapping:
        if not data:
            return cls()
        unknown = set(data) - {"subject", "subject_fallback", "municipality", "roles", "scopes", "assurance", "methods",
                           "client_id", "default_roles"}
        if unknown:
            raise ValueError(f"unknown claim mapping keys: {sorted(unknown)}")
        values = dict(data)
        for name in ("scopes", "default_roles", "client_id"):
            if name in values:
                raw = values[name]
                values[name] = (raw,) if isinstance(raw, str) else tuple(raw)
        return cls(**values)


def claim_value(claims: Mapping[str, Any], name: str) -> Any:
    """`claims["a"]["b"]` for name "a.b"; a literal key containing dots wins if present."""
    if name in claims:
        return claims[name]
    current: Any = claims
    for part in name.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _string_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(v for v in value.split() if v)
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return frozenset(str(v) for v in value if isinstance(v, str) and v)
    return frozenset()


def _check_digit(first_five: str) -> str:
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def normalize_municipality(value: Any) -> str | None:
    """Accept the 6-digit code or the 5-digit form some sources publish; anything else is dropped.

    A wrong check digit means a corrupted or invented code: it is treated as absent, so no
    municipality-scoped permission is granted from it.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text.isdigit():
        return None
    if len(text) == 5:
        return text + _check_digit(text)
    if len(text) == 6 and _check_digit(text[:5]) == text[5]:
        return text
    return None


def principal_from_claims(claims: Mapping[str, Any], mapping: ClaimMapping, issuer: str | None) -> Principal:
    subject = claim_value(claims, mapping.subject)
    if subject is None and mapping.subject_fallback:
        subject = claim_value(claims, mapping.subject_fallback)
    if not isinstance(subject, str) or not subject:
        raise ValueError(f"the token has no subject claim '{mapping.subject}'")
    scopes: frozenset[str] = frozenset()
    for name in mapping.scopes:
        scopes |= _string_set(claim_value(claims, name))
    roles = _string_set(claim_value(claims, mapping.roles)) | frozenset(mapping.default_roles)
    assurance = claim_value(claims, mapping.assurance)
    client_id = next((v for v in (claim_value(claims, n) for n in mapping.client_id) if isinstance(v, str) and v),
                     None)
    return Principal(
        subject=subject,
        municipality=normalize_municipality(claim_value(claims, mapping.municipality)),
        roles=roles,
        scopes=scopes,
        assurance=assurance if isinstance(assurance, str) and assurance else None,
        issuer=issuer,
        client_id=client_id[:128] if client_id else None,
        methods=tuple(sorted(_string_set(claim_value(claims, mapping.methods))))[:8],
    )
