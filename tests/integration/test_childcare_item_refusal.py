"""Through the gateway: a refusal inside childcare for one item stays at that item.

The guardian asks for his children's guardians and their children. The co-guardian's children list is not his
to read (childcare lists a guardian's children only to that guardian or staff), and her name is not his either
(identity): those positions are null with FORBIDDEN at their paths, and the rest of the answer — his own name,
his children, his own list under each child — stands instead of `me` being blanked by null propagation."""

from __future__ import annotations

from subgraphs.common.roster import Person, children_of
from tests.integration.gateway_client import post_graphql

QUERY = """query { me { id name children { id guardians { id name children { id } } } } }"""


async def test_co_guardians_refused_children_do_not_blank_me(stack, guardian: Person, guardian_token: str):
    response = await post_graphql(stack.graphql_url, QUERY, token=guardian_token)
    assert response.status_code == 200, response.text
    body = response.json()
    me = body["data"]["me"]
    assert me["id"] == guardian.id and me["name"] == guardian.name
    own = [child.id for child in sorted(children_of(guardian.id), key=lambda p: (p.birth_date, p.id))]
    assert [child["id"] for child in me["children"]] == own
    co_guardians = set()
    for child in me["children"]:
        by_id = {g["id"]: g for g in child["guardians"]}
        assert [c["id"] for c in by_id[guardian.id]["children"]] == own
        others = [g for g in child["guardians"] if g["id"] != guardian.id]
        assert others, "the roster gives each child two guardians"
        for other in others:
            assert other["children"] is None and other["name"] is None
            co_guardians.add(other["id"])
    errors = {(tuple(e["path"]), e["extensions"]["code"]) for e in body["errors"]}
    assert {code for _, code in errors} == {"FORBIDDEN"}
    # Each refusal is reported at a path where the co-guardian stands (the gateway fetches one entity once, so
    # a refusal repeated under both children may be reported at the first occurrence only).
    co_guardian_paths = {("me", "children", i, "guardians", j)
                         for i, child in enumerate(me["children"])
                         for j, g in enumerate(child["guardians"]) if g["id"] in co_guardians}
    for field in ("children", "name"):
        assert any(path[:-1] in co_guardian_paths and path[-1] == field for path, _ in errors), (field, errors)
    assert all(path[:-1] in co_guardian_paths for path, _ in errors), errors
