"""The plan the gateway makes for the cross-city query, asked for with the expose-plan header.

Shape asserted, not text: which subgraph is fetched at which response path, that the two root fetches run in
parallel, that every entity fetch waits for what it needs, and that entity fetches are batched (one fetch per
path, carrying every representation: both children's names come from identity in one call).
"""

from __future__ import annotations

from dataclasses import dataclass

from subgraphs.common.roster import children_of
from tests.integration.cross_city import CROSS_CITY_QUERY
from tests.integration.gateway_client import EXPOSE_PLAN_HEADER, post_graphql
from tests.integration.test_cross_city_query import cross_city_variables


@dataclass(frozen=True)
class PlannedFetch:
    index: int
    service: str
    path: tuple[str, ...]     # () for a root fetch, else the Flatten path
    after: frozenset[int]     # indexes of the fetches the plan finishes before this one starts
    operation: str


def planned_fetches(node: dict) -> list[PlannedFetch]:
    """Every Fetch of a plan, with what must have finished before it (Sequence orders, Parallel does not)."""
    found: list[PlannedFetch] = []

    def walk(node: dict, path: tuple[str, ...], before: frozenset[int]) -> frozenset[int]:
        kind = node["kind"]
        if kind == "Fetch":
            found.append(PlannedFetch(len(found), node["serviceName"], path, before, node["operation"]))
            return frozenset({len(found) - 1})
        if kind == "Flatten":
            return walk(node["node"], tuple(node["path"]), before)
        if kind == "Sequence":
            done: frozenset[int] = frozenset()
            for child in node["nodes"]:
                done |= walk(child, path, before | done)
            return done
        if kind == "Parallel":
            done = frozenset()
            for child in node["nodes"]:
                done |= walk(child, path, before)
            return done
        raise AssertionError(f"unexpected plan node {kind} in {node}")

    walk(node, (), frozenset())
    return found


async def test_plan_shape_and_batched_entity_fetches(stack, guardian, guardian_token, checked_in):
    mark = stack.calls_mark()
    response = await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id),
                                  token=guardian_token, headers={EXPOSE_PLAN_HEADER: "true"})
    body = response.json()
    assert "errors" not in body, body["errors"]
    plan = body["extensions"]["apolloQueryPlan"]["object"]
    assert plan["kind"] == "QueryPlan"
    fetches = planned_fetches(plan["node"])
    by_place = {(f.service, f.path): f for f in fetches}

    # one fetch per (subgraph, path): six fetches, all four subgraphs
    assert len(fetches) == len(by_place) == 6, fetches
    assert {f.service for f in fetches} == {"IDENTITY", "SAFETY", "CHILDCARE", "CURRENCY"}
    assert set(by_place) == {
        ("IDENTITY", ()),                                       # resident(id:) with its stay
        ("SAFETY", ()),                                         # shelters(...) open data
        ("CHILDCARE", ("resident",)),                           # Resident.children
        ("CURRENCY", ("resident",)),                            # Resident.pointAccount
        ("SAFETY", ("resident", "currentShelterStay", "shelter")),   # Shelter's open-data fields
        ("IDENTITY", ("resident", "children", "@", "resident")),     # both children's names, one batch
    }
    root_identity, root_safety = by_place[("IDENTITY", ())], by_place[("SAFETY", ())]
    assert "resident(" in root_identity.operation and "shelters(" in root_safety.operation
    assert root_identity.after == root_safety.after == frozenset()       # independent roots run together
    for place in [("CHILDCARE", ("resident",)), ("CURRENCY", ("resident",)),
                  ("SAFETY", ("resident", "currentShelterStay", "shelter"))]:
        assert "_entities" in by_place[place].operation
        assert root_identity.index in by_place[place].after                # needs the resident's key
    children_names = by_place[("IDENTITY", ("resident", "children", "@", "resident"))]
    assert by_place[("CHILDCARE", ("resident",))].index in children_names.after   # needs the children's ids

    # executed as planned: identity got the two children in ONE _entities call
    identity_calls = stack.calls_since(mark)["identity"]
    entity_calls = [c for c in identity_calls if "_entities" in (c.query or "")]
    assert len(entity_calls) == 1
    assert sorted(r["id"] for r in entity_calls[0].representations) == sorted(c.id for c in children_of(guardian.id))
    assert {r["__typename"] for r in entity_calls[0].representations} == {"Resident"}
    calls = stack.calls_since(mark)
    assert {name: len(received) for name, received in calls.items()} == {
        "identity": 2, "safety": 2, "childcare": 1, "currency": 1}


async def test_plan_is_only_shown_when_asked(stack, guardian, guardian_token, checked_in):
    response = await post_graphql(stack.graphql_url, CROSS_CITY_QUERY, cross_city_variables(guardian.id),
                                  token=guardian_token)
    assert "apolloQueryPlan" not in (response.json().get("extensions") or {})
