"""Issue 4 through the whole stack: the cross-city query asked by people who must not see the guardian's data.

Each gets the open data (shelters) and, for the personal parts, null with an error at the path; nothing of the
guardian's or his children's data appears anywhere in the answer. A bad token is a 401 before any subgraph is
called.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from subgraphs.common.municipality import KAKOGAWA, TAKA
from subgraphs.common.roster import STAFF, Person, by_label, children_of
from tests.integration.cross_city import CROSS_CITY_QUERY, PER_PLATFORM_QUERY
from tests.integration.expectations import expected_balance, seeded_shelters
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce, vendor_token
from tests.integration.stack import AUDIENCE
from tests.integration.test_cross_city_query import AS_OF, cross_city_variables

OTHER_RESIDENT = "himeji-2/takeshi"   # same city, a guardian himself, not of these children
REFUSAL_CODES = {"FORBIDDEN", "UNAUTHENTICATED", "UNAUTHORIZED_FIELD_OR_TYPE", "PLATFORM_NOT_JOINED"}


def _staff(code: str, scope: str):  # noqa: ANN202
    return next(s for s in STAFF if s.municipality_code == code and scope in s.scopes)


# who -> how they get their token (None: no Authorization header at all)
async def _token_for(stack, who: str) -> str | None:  # noqa: ANN001
    if who == "another resident":
        return await sign_in_with_pkce(stack.idp_url, by_label(OTHER_RESIDENT).id)
    if who == "staff of another city":   # Kakogawa's childcare section, asking for its scope
        return await sign_in_with_pkce(stack.idp_url, _staff(KAKOGAWA, "childcare:read").id,
                                       scope="openid childcare:read")
    if who == "staff of another city holding every read scope":   # 多可町 general affairs
        return await sign_in_with_pkce(stack.idp_url, _staff(TAKA, "currency:read").id,
                                       scope="openid identity:read childcare:read safety:read currency:read")
    if who == "vendor":
        return await vendor_token(stack.idp_url)
    if who == "nobody":
        return None
    raise ValueError(who)


OUTSIDERS = ["another resident", "staff of another city", "staff of another city holding every read scope",
             "vendor", "nobody"]


def personal_strings(guardian: Person) -> list[str]:
    """What must never show up in an outsider's answer: names, kana, child ids, birth dates."""
    values = [guardian.name, guardian.name_kana, guardian.family_name + guardian.given_name]
    for child in children_of(guardian.id):
        values += [child.id, child.name, child.name_kana, child.birth_date.isoformat()]
    return values


def open_kakogawa_shelters() -> list[tuple[str, str]]:
    return sorted((s.id, s.name) for s in seeded_shelters().values() if s.is_open and s.id.startswith(KAKOGAWA))


def refusal_paths(body: dict) -> dict[tuple, str]:
    return {tuple(e.get("path") or ()): e.get("extensions", {}).get("code") for e in body.get("errors", [])}


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_outsiders_get_open_data_and_nothing_personal(stack, guardian, checked_in, who):
    token = await _token_for(stack, who)
    mark = stack.calls_mark()
    response = await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id),
                                  token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["resident"] is None
    assert refusal_paths(body).get(("resident",)) in REFUSAL_CODES, body.get("errors")
    assert sorted((s["id"], s["name"]) for s in body["data"]["shelters"]) == open_kakogawa_shelters()
    for value in personal_strings(guardian):
        assert value not in response.text, (who, value)
    calls = stack.calls_since(mark)
    # refused at the root: the platforms holding the children and the points were never asked
    assert calls["childcare"] == [] and calls["currency"] == []
    if who == "nobody":   # @authenticated pruned it at the gateway: identity never saw the field
        assert not any("resident(" in (c.query or "") for c in calls["identity"])


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_each_platform_refuses_outsiders_on_its_own(stack, guardian, who):
    """Asked of childcare and currency directly (no identity in front), each owner refuses by itself."""
    token = await _token_for(stack, who)
    child = children_of(guardian.id)[0]
    response = await post_graphql(stack.graphql_url, PER_PLATFORM_QUERY, {
        "residentId": guardian.id, "childId": child.id, "asOf": AS_OF.isoformat(), "shelterId": f"{KAKOGAWA}:S001"},
        token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"]["child"] is None and body["data"]["pointAccount"] is None
    paths = refusal_paths(body)
    assert paths.get(("child",)) in REFUSAL_CODES and paths.get(("pointAccount",)) in REFUSAL_CODES, paths
    assert body["data"]["shelter"]["id"] == f"{KAKOGAWA}:S001"
    for value in personal_strings(guardian):
        assert value not in response.text, (who, value)


async def test_the_guardian_gets_the_same_per_platform_query(stack, guardian, guardian_token):
    """Control for the refusals above: the same request with the guardian's token answers in full."""
    child = children_of(guardian.id)[0]
    response = await post_graphql(stack.graphql_url, PER_PLATFORM_QUERY, {
        "residentId": guardian.id, "childId": child.id, "asOf": AS_OF.isoformat(), "shelterId": f"{KAKOGAWA}:S001"},
        token=guardian_token)
    body = response.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]["child"]["id"] == child.id and body["data"]["child"]["birthDate"] == child.birth_date.isoformat()
    assert body["data"]["pointAccount"] == {"residentId": guardian.id, "balance": expected_balance(guardian)}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _bad_token(kind: str, stack, real_token: str) -> str:  # noqa: ANN001
    if kind == "not a jwt":
        return "this-is-not-a-token"
    if kind == "tampered payload":   # the guardian's real token, made to say it belongs to someone else
        header, payload, signature = real_token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = by_label(OTHER_RESIDENT).id
        return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    if kind == "signed by a key the IdP does not hold":
        now = int(time.time())
        real_kid = json.loads(base64.urlsafe_b64decode(real_token.split(".")[0] + "=="))["kid"]
        claims = {"iss": stack.idp_url, "aud": AUDIENCE, "sub": by_label(OTHER_RESIDENT).id, "iat": now,
                  "exp": now + 300, "roles": ["resident"], "muni": "282014", "scope": "openid"}
        return jwt.encode({"alg": "RS256", "kid": real_kid}, claims, RSAKey.generate_key(2048))
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["not a jwt", "tampered payload", "signed by a key the IdP does not hold"])
async def test_bad_token_is_401_and_no_subgraph_is_called(stack, guardian, guardian_token, kind):
    token = _bad_token(kind, stack, guardian_token)
    mark = stack.calls_mark()
    response = await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id),
                                  token=token)
    assert response.status_code == 401, response.text
    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert stack.calls_since(mark) == {name: [] for name in stack.subgraphs}


async def test_staff_of_the_childs_city_see_only_their_platform(stack, guardian):
    """Himeji's childcare section (childcare:read) may read the Himeji child, and its access is audited as
    theirs; the guardian's points stay closed to them (no currency:read)."""
    from subgraphs.common.municipality import HIMEJI
    from tests.integration.audit_logs import audit_entries_after, last_audit_id

    staff = _staff(HIMEJI, "childcare:read")
    token = await sign_in_with_pkce(stack.idp_url, staff.id, scope="openid childcare:read")
    child = children_of(guardian.id)[0]
    childcare_db = stack.subgraphs["childcare"].database_url
    mark = await last_audit_id(childcare_db)
    response = await post_graphql(stack.graphql_url, PER_PLATFORM_QUERY, {
        "residentId": guardian.id, "childId": child.id, "asOf": AS_OF.isoformat(), "shelterId": f"{KAKOGAWA}:S001"},
        token=token)
    body = response.json()
    assert body["data"]["child"]["id"] == child.id
    assert body["data"]["pointAccount"] is None
    assert refusal_paths(body) == {("pointAccount",): "FORBIDDEN"}
    entries = await audit_entries_after(childcare_db, mark)
    assert [(e.actor, e.subject, e.result) for e in entries] == [(staff.id, child.id, "permitted")]
