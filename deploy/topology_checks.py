"""What a production-shaped kyodo deployment must do, checked from outside through its fronting proxy.

The same checks run against the local topology with the oidc-provider stand-in (tests/deploy/test_topology.py)
and against a real Keycloak (deploy/keycloak/run_local.py). Tokens come the way clients get them: residents
and staff sign in through the realm's browser flow (authorization code + PKCE S256, the sign-in form filled
in as a person would), vendors and card readers with client credentials.

Each check raises AssertionError with what it saw.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from subgraphs.common.municipality import KAKOGAWA
from subgraphs.common.roster import STAFF, by_label, children_of, demo_card_serial

CLIENT = "kyodo-web"
REDIRECT_URI = "http://127.0.0.1/callback"   # one of the realm's kyodo-web redirect URIs; never followed
AUDIENCE = "urn:kyodo:gateway"
CHIYO = by_label("yabu-2/chiyo")             # Yabu resident: identity and currency both joined
YABU_IDENTITY_STAFF = next(s for s in STAFF if s.municipality_code == CHIYO.municipality_code
                           and "identity:write" in s.scopes)
GUARDIAN = by_label("himeji-1/taro")          # Himeji guardian: identity (Yabu), childcare (Himeji), currency (Kasai)
IDENTITY_STAFF = next(s for s in STAFF if s.municipality_code == GUARDIAN.municipality_code
                      and "identity:read" in s.scopes)
UPSTREAM = "x-kyodo-upstream"                # added by the local runner's nginx copy only: which replica answered
# The rate-limit check's bucket: anonymous callers may spend this much, and it does not refill meanwhile.
RATE_LIMIT_ENV = {"KYODO__RATE_LIMIT__ANONYMOUS__CAPACITY": "10",
                  "KYODO__RATE_LIMIT__ANONYMOUS__REFILL_PER_SECOND": "0.001"}

RESIDENT_QUERY = """query Mine($id: ID!, $city: String!) {
  resident(id: $id) { id name municipality { code name } children { id } pointAccount { balance } }
  shelters(municipalityCode: $city) { id }   # safety's open data (Kakogawa)
}"""
PERSISTED_QUERY = "query KyodoTopologyMe { me { id name } }"


@dataclass
class Deployment:
    public_url: str          # the fronting proxy
    secrets: dict[str, str]  # compose's variables (docker/.env): demo password, client secrets

    @property
    def issuer(self) -> str:
        return self.public_url + "/realms/kyodo"

    @property
    def graphql(self) -> str:
        return self.public_url + "/graphql"


def _client() -> httpx.Client:
    return httpx.Client(timeout=30, follow_redirects=False)


def _discovery(deployment: Deployment) -> dict[str, Any]:
    with _client() as http:
        response = http.get(deployment.issuer + "/.well-known/openid-configuration")
    assert response.status_code == 200, f"discovery: {response.status_code} {response.text[:300]}"
    found: dict[str, Any] = response.json()
    assert found["issuer"] == deployment.issuer, found["issuer"]
    return found


def sign_in(deployment: Deployment, username: str) -> str:
    """A person's access token through the realm's browser sign-in (code + PKCE), as the playground gets it."""
    endpoints = _discovery(deployment)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = endpoints["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "client_id": CLIENT, "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "openid",
        "state": secrets.token_urlsafe(8), "code_challenge": challenge, "code_challenge_method": "S256"})
    with _client() as http:
        response = http.get(url)
        form_posted = False
        for _ in range(10):
            location = response.headers.get("location")
            if location and location.startswith(REDIRECT_URI):
                break
            if location:
                response = http.get(urllib.parse.urljoin(str(response.url), location))
                continue
            assert not form_posted, f"sign-in of {username} refused: {response.status_code} {response.text[:300]}"
            action, fields = _sign_in_form(response.text)
            fields.update(username=username, password=deployment.secrets["KYODO_DEMO_PASSWORD"])
            response = http.post(urllib.parse.urljoin(str(response.url), action), data=fields)
            form_posted = True
        else:
            raise AssertionError(f"sign-in of {username} never came back to {REDIRECT_URI}")
        code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
        token = http.post(endpoints["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT, "code_verifier": verifier})
    assert token.status_code == 200, f"token for {username}: {token.status_code} {token.text[:300]}"
    return str(token.json()["access_token"])


def _sign_in_form(page: str) -> tuple[str, dict[str, str]]:
    """The sign-in page's form: its action and hidden fields (Keycloak's and the stand-in's alike)."""
    form = re.search(r"<form\b[^>]*\baction=\"([^\"]+)\"[^>]*>(.*?)</form>", page, flags=re.S | re.I)
    assert form, f"no sign-in form on the page: {page[:300]}"
    hidden = {html.unescape(name): html.unescape(value) for name, value in re.findall(
        r"<input\b[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", form.group(2), flags=re.I)}
    return html.unescape(form.group(1)), hidden


def client_token(deployment: Deployment, client_id: str, secret_variable: str) -> str:
    endpoints = _discovery(deployment)
    with _client() as http:
        response = http.post(endpoints["token_endpoint"], data={"grant_type": "client_credentials"},
                             auth=(client_id, deployment.secrets[secret_variable]))
    assert response.status_code == 200, f"{client_id}: {response.status_code} {response.text[:300]}"
    return str(response.json()["access_token"])


def post(url: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    with _client() as http:
        return http.post(url, json=body, headers=headers)


def _data(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, f"{response.status_code} {response.text[:500]}"
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def _codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


def check_resident_cross_platform(deployment: Deployment) -> set[str]:
    """A guardian's one query over identity, childcare, currency and safety, answered alike on each replica.
    Returns the replicas (upstream addresses) that answered, when the proxy says."""
    token = sign_in(deployment, GUARDIAN.id)
    answered: set[str] = set()
    results = []
    for _ in range(2):
        response = post(deployment.graphql, {"query": RESIDENT_QUERY, "variables": {
            "id": GUARDIAN.id, "city": KAKOGAWA}}, token)
        results.append(_data(response))
        if UPSTREAM in response.headers:
            answered.add(response.headers[UPSTREAM])
    for data in results:
        resident = data["resident"]
        assert resident["id"] == GUARDIAN.id and resident["name"] == GUARDIAN.name, resident
        assert resident["municipality"]["code"] == GUARDIAN.municipality_code
        assert sorted(c["id"] for c in resident["children"]) == sorted(c.id for c in children_of(GUARDIAN.id))
        assert isinstance(resident["pointAccount"]["balance"], int)
        assert data["shelters"], "no open-data shelters from safety"
    assert results[0] == results[1]
    return answered


def check_staff_reads_own_municipality(deployment: Deployment) -> None:
    token = sign_in(deployment, IDENTITY_STAFF.id)
    data = _data(post(deployment.graphql, {"query": "query($id: ID!) { resident(id: $id) { id name } }",
                                           "variables": {"id": GUARDIAN.id}}, token))
    assert data["resident"] == {"id": GUARDIAN.id, "name": GUARDIAN.name}


def check_card_reader_signs_a_card_in(deployment: Deployment) -> None:
    token = client_token(deployment, "kyodo-card-reader", "KYODO_CARD_READER_CLIENT_SECRET")
    data = _data(post(deployment.graphql, {"query": """mutation($s: String!) {
        cardTapSignIn(certificateSerial: $s) { residentId method level } }""",
                                           "variables": {"s": demo_card_serial(GUARDIAN.id)}}, token))
    assert data["cardTapSignIn"] == {"residentId": GUARDIAN.id, "method": "card-tap", "level": 1}


def check_vendor_confined_to_its_contract(deployment: Deployment) -> None:
    token = client_token(deployment, "kyodo-vendor", "KYODO_VENDOR_CLIENT_SECRET")
    shelters = {"query": "query($c: String!) { shelters(municipalityCode: $c) { id } }",
                "variables": {"c": KAKOGAWA}}
    refused = post(deployment.graphql, shelters, token)
    assert "FORBIDDEN" in _codes(refused), f"a vendor on /graphql: {refused.status_code} {refused.text[:300]}"
    contract = deployment.public_url + "/contracts/vendor/graphql"
    assert _data(post(contract, shelters, token))["shelters"]
    personal = post(contract, {"query": "{ me { id } }"}, token)
    assert "GRAPHQL_VALIDATION_FAILED" in _codes(personal), personal.text[:300]


def check_unknown_issuer_refused(deployment: Deployment) -> None:
    """A well-formed token, signed, for the gateway's audience, from an issuer the gateway does not trust."""
    key = RSAKey.generate_key(2048)
    now = int(time.time())
    claims = {"iss": deployment.public_url + "/realms/elsewhere", "aud": AUDIENCE, "sub": GUARDIAN.id,
              "iat": now, "exp": now + 300, "muni": GUARDIAN.municipality_code, "roles": ["resident"]}
    token = jwt.encode({"alg": "RS256", "kid": "elsewhere"}, claims, key)
    for _ in range(2):   # each replica
        response = post(deployment.graphql, {"query": "{ me { id } }"}, token)
        assert response.status_code == 401 and _codes(response) == ["UNAUTHENTICATED"], response.text[:300]


def check_rate_limit_shared(deployment: Deployment) -> set[str]:
    """With RATE_LIMIT_ENV on both replicas, anonymous callers get 10 cost units in all, not 10 per replica: ask
    `{ __typename }` (1 unit) until the first 429 (a bounded number of times). Shared, at most 10 answers came
    before it (fewer if anonymous requests spent units earlier); per replica it would be more than 10 as long
    as earlier ones spent fewer than 10. After the first refusal the other replica refuses too."""
    capacity = int(RATE_LIMIT_ENV["KYODO__RATE_LIMIT__ANONYMOUS__CAPACITY"])
    answered: dict[int, set[str]] = {200: set(), 429: set()}
    statuses: list[int] = []
    for _ in range(3 * capacity):
        response = post(deployment.graphql, {"query": "{ __typename }"})
        statuses.append(response.status_code)
        answered.setdefault(response.status_code, set()).add(response.headers.get(UPSTREAM, ""))
        if statuses.count(429) == 2:
            break
    assert statuses.count(429) == 2, statuses
    served = statuses.index(429)
    assert 1 <= served <= capacity and set(statuses[:served]) == {200} and statuses[served:] == [429, 429], statuses
    return answered[429]


def persisted_manifest() -> dict[str, Any]:
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{
        "id": hashlib.sha256(PERSISTED_QUERY.encode()).hexdigest(), "name": "KyodoTopologyMe", "type": "query",
        "body": PERSISTED_QUERY}]}


def ask_persisted(deployment: Deployment, token: str) -> list[httpx.Response]:
    """The persisted operation by id only, twice (one per replica behind a round-robin proxy)."""
    sha = persisted_manifest()["operations"][0]["id"]
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    return [post(deployment.graphql, body, token) for _ in range(2)]


def check_persisted_before_publish(deployment: Deployment, token: str) -> None:
    for response in ask_persisted(deployment, token):
        assert _codes(response) == ["PERSISTED_QUERY_NOT_IN_LIST"], response.text[:300]


def check_persisted_after_publish(deployment: Deployment, token: str) -> set[str]:
    answered = set()
    for response in ask_persisted(deployment, token):
        assert _data(response)["me"] == {"id": GUARDIAN.id, "name": GUARDIAN.name}
        if UPSTREAM in response.headers:
            answered.add(response.headers[UPSTREAM])
    return answered


def manifest_json() -> str:
    return json.dumps(persisted_manifest(), ensure_ascii=False)


SUBMIT = """mutation($key: String!) { submitApplication(kind: RESIDENCE_CERTIFICATE, idempotencyKey: $key) { id } }"""
COMPLETE = """mutation($id: ID!) { completeApplication(applicationId: $id) { id currencyGrant { status points } } }"""
BALANCE = """query($id: ID!) { pointAccount(residentId: $id) { balance } }"""


def check_grant_relay(deployment: Deployment, relay_round: Callable[[], Any]) -> None:
    """A resident's application, completed by staff, becomes points: the relay reads identity's outbox directly
    with its realm token, grants through the proxy, records currency's answer on identity.
    `relay_round()` runs one round of the deployment's relay and returns (exit code, output)."""
    resident, staff = sign_in(deployment, CHIYO.id), sign_in(deployment, YABU_IDENTITY_STAFF.id)
    before = _data(post(deployment.graphql, {"query": BALANCE, "variables": {"id": CHIYO.id}}, resident))
    submitted = _data(post(deployment.graphql, {"query": SUBMIT, "variables": {
        "key": f"topology-{secrets.token_hex(4)}"}}, resident))
    application = submitted["submitApplication"]["id"]
    done = _data(post(deployment.graphql, {"query": COMPLETE, "variables": {"id": application}}, staff))
    assert done["completeApplication"]["currencyGrant"] == {"status": "pending", "points": None}, done
    code, output = relay_round()
    assert code == 0 and "1 granted" in output, output[-1500:]
    after = _data(post(deployment.graphql, {"query": BALANCE, "variables": {"id": CHIYO.id}}, resident))
    granted = _data(post(deployment.graphql, {"query": COMPLETE, "variables": {"id": application}}, staff))
    points = granted["completeApplication"]["currencyGrant"]["points"]
    assert granted["completeApplication"]["currencyGrant"]["status"] == "granted" and points > 0, granted
    assert after["pointAccount"]["balance"] == before["pointAccount"]["balance"] + points


def check_response_cache_shared(deployment: Deployment, redis_url: str) -> set[str]:
    """A public answer stored by one replica is served by the other from Redis: the stored entry is marked in
    Redis between the two requests, and the second replica answers with the mark. (Anonymous: only answers to
    nobody in particular are cached. Two requests of the anonymous rate-limit bucket.)"""
    import redis

    alias = f"open_{secrets.token_hex(4)}"    # a fresh cache key for this run
    # one shelter (a few cost units: the anonymous bucket of RATE_LIMIT_ENV is small)
    query = {"query": f"{{ {alias}: shelter(id: \"{KAKOGAWA}:S001\") {{ id name }} }}"}
    store = redis.Redis.from_url(redis_url)
    try:
        before = set(store.scan_iter("kyodo:response:*"))
        first = post(deployment.graphql, query)
        assert _data(first)[alias]["id"] == f"{KAKOGAWA}:S001", first.text[:300]
        new = set(store.scan_iter("kyodo:response:*")) - before
        assert len(new) == 1, f"one response stored in Redis, found {len(new)}"
        (key,) = new
        marked = {"data": {alias: {"id": f"{KAKOGAWA}:S001", "name": "marked in Redis"}}}
        assert store.set(key, json.dumps(marked), keepttl=True, xx=True)
        second = post(deployment.graphql, query)
        assert second.json() == marked, second.text[:300]
    finally:
        store.close()
    return {r.headers[UPSTREAM] for r in (first, second) if UPSTREAM in r.headers}
