"""The Keycloak realm `kyodo` of the production-shaped stacks, generated from the one demo roster.

    python -m deploy.keycloak.realm > docker/keycloak/kyodo-realm.json

Keycloak issues tokens whose claims are the ones kyodo reads (auth/principal.py, with the claim mapping
of docker/config/gateway.toml): `sub` = the roster's pseudonymous id (each user is imported with that id),
`muni` = the 6-digit municipality code, `roles` = realm roles (resident, guardian, staff, vendor, device,
integration), `scp` = kyodo scopes held as a user attribute, `aud` = urn:kyodo:gateway; the mappers sit on
each client.

Scopes come from an attribute and not from OAuth scopes on purpose: Keycloak grants any optional client
scope a client asks for, whoever signs in, so a resident could ask for `identity:read`. Attributes are
admin-edit only (the user profile's unmanaged attribute policy), so nobody grants themselves a scope.
Secrets are `${…}` placeholders that Keycloak fills from its environment when it imports the realm.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from subgraphs.common.roster import ROSTER, STAFF, children_of

REALM = "kyodo"
AUDIENCE = "urn:kyodo:gateway"
PASSWORD = "${KYODO_DEMO_PASSWORD}"
ROLES = ("resident", "guardian", "staff", "vendor", "device", "integration")
# Where the playground (behind the fronting proxy) sends the browser back after sign-in.
WEB_REDIRECTS = ("http://127.0.0.1:4000/graphql", "http://localhost:4000/graphql", "http://127.0.0.1/callback")
WEB_ORIGINS = ("http://127.0.0.1:4000", "http://localhost:4000")
# Confidential clients: (client id, secret placeholder, realm roles, kyodo scopes of its service account).
SERVICE_CLIENTS = (
    ("kyodo-vendor", "${KYODO_VENDOR_CLIENT_SECRET}", ("vendor",), ("currency:merchant",)),
    ("kyodo-card-reader", "${KYODO_CARD_READER_CLIENT_SECRET}", ("device",), ()),
    ("kyodo-grant-relay", "${KYODO_GRANT_RELAY_CLIENT_SECRET}", ("integration",),
     ("currency:grant", "identity:grant-relay")),
)


def _mapper(name: str, mapper: str, **config: str) -> dict[str, Any]:
    shown = {"access.token.claim": "true", "id.token.claim": "false", "userinfo.token.claim": "false"}
    # (no consentRequired: false is Keycloak's default, and the admin client's RealmRepresentation types, which
    # tests/deploy/test_realm_types.py checks the realm against, do not list it)
    return {"name": name, "protocol": "openid-connect", "protocolMapper": mapper, "config": {**shown, **config}}


def claim_mappers() -> list[dict[str, Any]]:
    """Every mapper kyodo needs, on each kyodo client. (On the clients rather than in a realm client scope: a
    realm import that lists client scopes gets none of Keycloak's built-in ones, `basic` with `sub` among them.)"""
    return [
        _mapper("municipality", "oidc-usermodel-attribute-mapper", **{
                "user.attribute": "muni", "claim.name": "muni", "jsonType.label": "String"}),
            _mapper("kyodo roles", "oidc-usermodel-realm-role-mapper", **{
                "claim.name": "roles", "multivalued": "true", "jsonType.label": "String"}),
            _mapper("kyodo scopes", "oidc-usermodel-attribute-mapper", **{
                "user.attribute": "kyodo_scopes", "claim.name": "scp", "multivalued": "true",
                "jsonType.label": "String"}),
            _mapper("gateway audience", "oidc-audience-mapper", **{
                "included.custom.audience": AUDIENCE}),
    ]


def _user(user_id: str, first: str, last: str, municipality: str, roles: tuple[str, ...],
          scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    attributes: dict[str, list[str]] = {"muni": [municipality]}
    if scopes:
        attributes["kyodo_scopes"] = list(scopes)
    return {"id": user_id, "username": user_id, "firstName": first, "lastName": last, "enabled": True,
            "emailVerified": False, "attributes": attributes, "realmRoles": list(roles),
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}]}


def users() -> list[dict[str, Any]]:
    people = [_user(p.id, p.given_name, p.family_name, p.municipality_code,
                    ("resident", "guardian") if children_of(p.id) else ("resident",)) for p in ROSTER]
    staff = []
    for member in STAFF:
        family, _, given = member.name.partition(" ")
        staff.append(_user(member.id, given, family, member.municipality_code, ("staff",), member.scopes))
    services = []
    for client_id, _, roles, scopes in SERVICE_CLIENTS:
        account: dict[str, Any] = {"username": f"service-account-{client_id}", "enabled": True,
                                   "serviceAccountClientId": client_id, "realmRoles": list(roles)}
        if scopes:
            account["attributes"] = {"kyodo_scopes": list(scopes)}
        services.append(account)
    return people + staff + services


def clients() -> list[dict[str, Any]]:
    # No client scope lists: new clients get the realm's built-in defaults (basic: sub; profile; roles …).
    web = {"clientId": "kyodo-web", "name": "kyodo playground and citizen apps", "enabled": True,
           "publicClient": True, "standardFlowEnabled": True, "directAccessGrantsEnabled": False,
           "implicitFlowEnabled": False, "serviceAccountsEnabled": False, "protocol": "openid-connect",
           "redirectUris": list(WEB_REDIRECTS), "webOrigins": list(WEB_ORIGINS),
           "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
           "protocolMappers": claim_mappers()}
    confidential = [{"clientId": client_id, "enabled": True, "publicClient": False, "secret": secret,
                     "clientAuthenticatorType": "client-secret", "serviceAccountsEnabled": True,
                     "standardFlowEnabled": False, "directAccessGrantsEnabled": False,
                     "implicitFlowEnabled": False, "protocol": "openid-connect",
                     "protocolMappers": claim_mappers()}
                    for client_id, secret, _, _ in SERVICE_CLIENTS]
    return [web, *confidential]


def user_profile() -> dict[str, Any]:
    """Keycloak ≥ 24 drops undeclared attributes; keep `muni` and `kyodo_scopes`, editable by admins only."""
    config = {
        "unmanagedAttributePolicy": "ADMIN_EDIT",
        "attributes": [
            # no displayName: "${…}" would be read as an environment placeholder at import
            {"name": name, "permissions": {"view": ["admin", "user"], "edit": ["admin"]}}
            for name in ("username", "email", "firstName", "lastName")
        ],
    }
    return {"org.keycloak.userprofile.UserProfileProvider": [{
        "providerId": "declarative-user-profile", "subComponents": {},
        "config": {"kc.user.profile.config": [json.dumps(config, ensure_ascii=False)]}}]}


def realm() -> dict[str, Any]:
    return {
        "realm": REALM, "enabled": True, "displayName": "kyodo (共同)",
        "sslRequired": "external", "registrationAllowed": False, "resetPasswordAllowed": False,
        "editUsernameAllowed": False, "bruteForceProtected": True,
        # kyodo's dev IdP lives 300 s too; the playground renews with its refresh token.
        "accessTokenLifespan": 300,
        "roles": {"realm": [{"name": role} for role in ROLES]},
        "clients": clients(),
        "users": users(),
        "components": user_profile(),
    }


def realm_json() -> str:
    return json.dumps(realm(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(realm_json())


def service_client(client_id: str, redirect_uris: list[str]) -> dict[str, Any]:
    """A municipality's own service (`kyodo co-use register-client`) as a Keycloak client of the kyodo realm:
    confidential, authorization code only (the card sign-in is the realm's authentication flow), the same claim
    mappers as every other client; no secret here — Keycloak generates one (`kcadm.sh create clients -r kyodo
    -f FILE`, then `get clients/<id>/client-secret`)."""
    return {"clientId": client_id, "name": f"{client_id} (municipal service, identity co-use)", "enabled": True,
            "publicClient": False, "clientAuthenticatorType": "client-secret", "serviceAccountsEnabled": False,
            "standardFlowEnabled": True, "directAccessGrantsEnabled": False, "implicitFlowEnabled": False,
            "protocol": "openid-connect", "redirectUris": list(redirect_uris),
            "attributes": {"pkce.code.challenge.method": "S256"}, "protocolMappers": claim_mappers()}
