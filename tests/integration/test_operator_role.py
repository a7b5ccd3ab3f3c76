"""Issue 11 item 4 through the real gateway: a contracted operator (dev IdP client `kyodo-operator`, client
credentials) reads health, metrics, usage, migrations and the audit verification of all four platforms in one
request, and gets nothing personal and no audit record contents."""

from __future__ import annotations

import httpx

from auth.idp.operator_client import OPERATOR_CLIENT_ID
from subgraphs.common.roster import by_label
from tests.integration.gateway_client import post_graphql

PLATFORMS = ("childcare", "safety", "currency", "identity")
OPERATIONS = "{ " + " ".join(
    f"{p}Operations {{ health migration {{ upToDate }} auditVerification {{ intact records brokenRecordIds }} "
    f'metrics {{ name value }} usage(month: "2026-12") {{ municipalityCode clientId principalDays }} }}'
    for p in PLATFORMS) + " }"
PERSONAL = """query($id: ID!) { me { id name } resident(id: $id) { id name children { id } pointAccount { balance }
  watchTags { id } } }"""


async def _operator_token(stack) -> str:  # noqa: ANN001
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.post(f"{stack.idp_url}/token", data={"grant_type": "client_credentials"},
                                     auth=(OPERATOR_CLIENT_ID, "kyodo-operator-dev-secret"))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def test_operator_runs_all_four_platforms_without_personal_data(stack, guardian):
    token = await _operator_token(stack)
    body = (await post_graphql(stack.graphql_url, OPERATIONS, token=token)).json()
    assert "errors" not in body, body
    for platform in PLATFORMS:
        ops = body["data"][f"{platform}Operations"]
        assert ops["health"] == "ok" and ops["migration"]["upToDate"] is True, platform
        assert ops["auditVerification"]["intact"] is True and ops["auditVerification"]["brokenRecordIds"] == []

    personal = await post_graphql(stack.graphql_url, PERSONAL, {"id": guardian.id}, token=token)
    data = personal.json()["data"]
    assert data["me"] is None and data["resident"] is None
    assert guardian.family_name not in personal.text and guardian.id not in personal.text

    for log in ("identityAuditLog", "childcareAuditLog", "currencyAuditLog"):
        refused = (await post_graphql(stack.graphql_url, f"{{ {log} {{ subject fields purpose }} }}",
                                      token=token)).json()
        assert refused["data"] is None or refused["data"][log] is None, (log, refused)
        assert refused["errors"] and guardian.id not in str(refused)


async def test_residents_do_not_see_operations(stack):
    from tests.integration.identity_provider import sign_in_with_pkce

    token = await sign_in_with_pkce(stack.idp_url, by_label("himeji-1/taro").id)
    body = (await post_graphql(stack.graphql_url, "{ identityOperations { health } }", token=token)).json()
    assert body["data"]["identityOperations"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_anonymous_callers_are_refused_at_the_gateway(stack):
    mark = stack.calls_mark()
    body = (await post_graphql(stack.graphql_url, "{ safetyOperations { health } }")).json()
    assert body["data"] is None or body["data"]["safetyOperations"] is None
    assert body["errors"] and not stack.calls_since(mark)["safety"]
