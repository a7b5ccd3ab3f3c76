"""Issue 11 item 1 through the real gateway: a resident of a municipality that has not joined identity.

小野市 joined safety (the Kakogawa basin) but not identity, childcare or currency. The Ono guardian signs in and
asks for himself across all four platforms in one request: identity gives only his id (its fields null with
PLATFORM_NOT_JOINED at their paths), safety answers with his own watch tag, and the two platforms Ono did not
join refuse at their own paths. Nothing of another platform's answer is lost.
"""

from __future__ import annotations

from subgraphs.common.municipality import ONO
from subgraphs.common.roster import by_label
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import sign_in_with_pkce

ONO_GUARDIAN = by_label("ono-1/takuya")
ONO_TAG = "tag-ono-0001"          # registered by the safety seed to this guardian
ME_EVERYWHERE = """{ me { id name birthDate household { address }
  watchTags { id active lastSeen { source placeName } }
  children { id }
  pointAccount { balance } } }"""


def _codes_by_path(body: dict) -> dict[tuple, str]:
    return {tuple(e.get("path") or ()): e.get("extensions", {}).get("code") for e in body.get("errors", [])}


async def test_ono_guardian_reads_his_own_watch_tag_through_the_gateway(stack):
    assert ONO_GUARDIAN.municipality_code == ONO
    token = await sign_in_with_pkce(stack.idp_url, ONO_GUARDIAN.id)
    response = await post_graphql(stack.graphql_url, ME_EVERYWHERE, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    me = body["data"]["me"]
    assert me["id"] == ONO_GUARDIAN.id
    assert [t["id"] for t in me["watchTags"]] == [ONO_TAG]
    assert me["watchTags"][0]["active"] is True and me["watchTags"][0]["lastSeen"] is not None
    assert me["name"] is None and me["birthDate"] is None and me["household"] is None
    # childcare refuses each child entry, currency the account: each at its own path
    assert all(child is None for child in me["children"]) and me["pointAccount"] is None
    codes = _codes_by_path(body)
    assert set(codes.values()) == {"PLATFORM_NOT_JOINED"}
    assert {("me", "name"), ("me", "birthDate"), ("me", "household"), ("me", "pointAccount")} <= set(codes)
    assert all(path[:2] != ("me", "watchTags") for path in codes)
    assert ONO_GUARDIAN.family_name not in response.text


async def test_another_resident_gets_nothing_of_the_ono_guardian(stack):
    """The id-only Resident is not a way around the rule: a stranger still gets null and FORBIDDEN."""
    token = await sign_in_with_pkce(stack.idp_url, by_label("himeji-1/taro").id)
    response = await post_graphql(stack.graphql_url, 'query($id: ID!) { resident(id: $id) { id watchTags { id } } }',
                                  {"id": ONO_GUARDIAN.id}, token=token)
    body = response.json()
    assert body["data"]["resident"] is None
    assert set(_codes_by_path(body).values()) == {"FORBIDDEN"}
    assert ONO_TAG not in response.text
