"""Going around the gateway gives nothing: the real subgraphs, called directly, refuse personal data without a
context token the gateway signed for them. The control case (the gateway's own key, the right audience) shows
the same call does answer, so the refusals are not an accident of the query."""

from __future__ import annotations

import json

import httpx
import pytest
from joserfc.jwk import ECKey

from auth.context_token import CONTEXT_HEADER, sign_context
from auth.gateway_keys import generate_signing_key
from auth.principal import Principal
from subgraphs.common.roster import Person, children_of

# subgraph -> (query, variables builder, the personal field that must stay null)
DIRECT_READS = {
    "identity": ("query($id: ID!) { resident(id: $id) { name birthDate } }",
                 lambda g: {"id": g.id}, "resident"),
    "childcare": ("query($reps: [_Any!]!) { _entities(representations: $reps) "
                  "{ ... on Resident { children { id birthDate } } } }",
                  lambda g: {"reps": [{"__typename": "Resident", "id": g.id}]}, "_entities"),
    "currency": ("query($id: ID!) { pointAccount(residentId: $id) { balance } }",
                 lambda g: {"id": g.id}, "pointAccount"),
}


def guardian_principal(guardian: Person) -> Principal:
    return Principal(guardian.id, guardian.municipality_code, frozenset({"resident", "guardian"}),
                     frozenset({"openid"}), "password")


def gateway_key(stack) -> ECKey:  # noqa: ANN001
    return ECKey.import_key(json.loads((stack.state_dir / "gateway-context-key.json").read_text()))


def context_for(case: str, stack, guardian: Person, subgraph: str) -> str | None:  # noqa: ANN001
    if case == "no context":
        return None
    if case == "forged context (another key)":
        return sign_context(guardian_principal(guardian), subgraph, generate_signing_key())
    if case == "gateway context meant for another subgraph":
        other = "safety" if subgraph != "safety" else "identity"
        return sign_context(guardian_principal(guardian), other, gateway_key(stack))
    if case == "gateway context for this subgraph":
        return sign_context(guardian_principal(guardian), subgraph, gateway_key(stack))
    raise ValueError(case)


async def call_directly(url: str, query: str, variables: dict, context: str | None) -> dict:
    headers = {"content-type": "application/json"}
    if context is not None:
        headers[CONTEXT_HEADER] = context
    async with httpx.AsyncClient(timeout=15) as client:
        response = await client.post(url, json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _has_personal_data(body: dict, field: str) -> bool:
    value = (body.get("data") or {}).get(field)
    if field == "_entities":
        return any(item and item.get("children") for item in value or [])
    return value is not None


@pytest.mark.parametrize("subgraph", sorted(DIRECT_READS))
@pytest.mark.parametrize("case", ["no context", "forged context (another key)",
                                  "gateway context meant for another subgraph"])
async def test_direct_calls_without_a_valid_context_get_nothing(stack, guardian, subgraph, case):
    query, variables, field = DIRECT_READS[subgraph]
    body = await call_directly(stack.subgraphs[subgraph].url, query, variables(guardian),
                               context_for(case, stack, guardian, subgraph))
    assert not _has_personal_data(body, field), body
    assert body.get("errors"), body
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"UNAUTHENTICATED", "FORBIDDEN"}
    text = json.dumps(body, ensure_ascii=False)
    assert guardian.name not in text and guardian.birth_date.isoformat() not in text
    assert not any(child.id in text for child in children_of(guardian.id))


@pytest.mark.parametrize("subgraph", sorted(DIRECT_READS))
async def test_control_the_gateways_context_for_this_subgraph_is_answered(stack, guardian, subgraph):
    query, variables, field = DIRECT_READS[subgraph]
    body = await call_directly(stack.subgraphs[subgraph].url, query, variables(guardian),
                               context_for("gateway context for this subgraph", stack, guardian, subgraph))
    assert "errors" not in body, body
    assert _has_personal_data(body, field), body
