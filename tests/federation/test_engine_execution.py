"""Executor behaviour: partial data when a subgraph fails, null propagation, error paths, mutation order,
@skip/@include with variables and defaults, introspection mixed with ordinary fields."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for

from gateway.executor import SUBGRAPH_FAILED
from gateway.planner import Sequence

RESIDENTS = {"r1": {"id": "r1", "name": "Hana"}, "r2": {"id": "r2", "name": "Sora"}}


def subgraphs(log: list[str] | None = None) -> list[Subgraph]:
    points = {"r1": 120, "r2": None}

    def add_points(resident: str, amount: int) -> dict:
        if log is not None:
            log.append(f"add {resident} {amount}")
        points[resident] = (points[resident] or 0) + amount
        return {"id": resident, "points": points[resident]}

    return [
        Subgraph("identity", """
            type Query { residents: [Resident!]! resident(id: ID!): Resident }
            type Resident @key(fields: "id") { id: ID! name: String! }
            type Mutation { rename(id: ID!, name: String!): Resident }
        """, root={"residents": lambda: [dict(r) for r in RESIDENTS.values()],
                   "resident": lambda id: dict(RESIDENTS[id]) if id in RESIDENTS else None},
            mutation={"rename": lambda id, name: (log.append(f"rename {id}") if log is not None else None)
                      or {"id": id, "name": name}},
            entities={"Resident": lambda rep: {"__typename": "Resident", **RESIDENTS[rep["id"]]}}),
        Subgraph("currency", """
            type Resident @key(fields: "id") { id: ID! points: Int balance: Int! }
            type Mutation { addPoints(resident: ID!, amount: Int!): Resident }
        """, mutation={"addPoints": add_points},
            entities={"Resident": lambda rep: {"__typename": "Resident", "id": rep["id"],
                                               "points": points[rep["id"]], "balance": points[rep["id"]]}}),
    ]


SUPERGRAPH = """
type Query @join__type(graph: IDENTITY) @join__type(graph: CURRENCY) {
  residents: [Resident!]! @join__field(graph: IDENTITY)
  resident(id: ID!): Resident @join__field(graph: IDENTITY)
}
type Mutation @join__type(graph: IDENTITY) @join__type(graph: CURRENCY) {
  rename(id: ID!, name: String!): Resident @join__field(graph: IDENTITY)
  addPoints(resident: ID!, amount: Int!): Resident @join__field(graph: CURRENCY)
}
type Resident @join__type(graph: IDENTITY, key: "id") @join__type(graph: CURRENCY, key: "id") {
  id: ID!
  name: String! @join__field(graph: IDENTITY)
  points: Int @join__field(graph: CURRENCY)
  balance: Int! @join__field(graph: CURRENCY)
  secret: String @join__field(graph: IDENTITY) @inaccessible
}
"""


async def test_failed_subgraph_gives_partial_data_and_named_error() -> None:
    subs = subgraphs()
    subs[1].fail = True
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ residents { id name points } }")
    assert result["data"] == {"residents": [{"id": "r1", "name": "Hana", "points": None},
                                            {"id": "r2", "name": "Sora", "points": None}]}
    [error] = result["errors"]
    assert error["extensions"]["code"] == SUBGRAPH_FAILED
    assert error["extensions"]["service"] == "currency"
    assert "currency" in error["message"]


async def test_null_in_non_null_position_nulls_the_nearest_nullable_parent() -> None:
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        result = await gw.execute('{ resident(id: "r2") { name balance } residents { id } }')
    # balance is Int! and r2 has none: resident (nullable) becomes null, residents is untouched
    assert result["data"] == {"resident": None, "residents": [{"id": "r1"}, {"id": "r2"}]}
    assert any(e.get("path") == ["resident", "balance"] for e in result["errors"])


async def test_null_propagates_through_non_null_list_items() -> None:
    subs = subgraphs()
    subs[1].fail = True
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ residents { id balance } }")
    # residents: [Resident!]! -> a null item nulls the list, and the list is non-null: data is null
    assert result["data"] is None
    assert result["errors"]


async def test_mutation_root_fields_run_in_order() -> None:
    log: list[str] = []
    subs = subgraphs(log)
    query = """
    mutation {
      first: addPoints(resident: "r1", amount: 5) { points }
      rename(id: "r1", name: "Hanako") { name }
      second: addPoints(resident: "r1", amount: 7) { points name }
    }
    """
    async with gateway_for(subs, SUPERGRAPH) as gw:
        plan = gw.plan(query)
        result = await gw.execute(query)
    assert isinstance(plan.node, Sequence)
    assert log == ["add r1 5", "rename r1", "add r1 7"]
    assert result == {"data": {"first": {"points": 125}, "rename": {"name": "Hanako"},
                               "second": {"points": 132, "name": "Hana"}}}


async def test_skip_include_with_variables_and_defaults() -> None:
    query = """
    query ($withPoints: Boolean = true, $hideName: Boolean!) {
      residents {
        id
        name @skip(if: $hideName)
        ... @include(if: $withPoints) { points }
      }
    }
    """
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        shown = await gw.execute(query, {"hideName": False})
        hidden = await gw.execute(query, {"hideName": True, "withPoints": False})
    assert shown["data"]["residents"][0] == {"id": "r1", "name": "Hana", "points": 120}
    assert hidden["data"]["residents"][0] == {"id": "r1"}


async def test_subgraph_errors_are_rewritten_to_client_paths() -> None:
    subs = subgraphs()
    original = subs[1].entities["Resident"]

    def broken(rep):
        value = original(rep)
        if rep["id"] == "r2":
            value["points"] = lambda _info: (_ for _ in ()).throw(ValueError("ledger locked"))
        return value

    subs[1].entities["Resident"] = broken
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ residents { name points } }")
    assert result["data"]["residents"] == [{"name": "Hana", "points": 120}, {"name": "Sora", "points": None}]
    [error] = result["errors"]
    assert error["message"] == "ledger locked"
    assert error["path"] == ["residents", 1, "points"]


async def test_introspection_mixed_with_ordinary_fields() -> None:
    query = """
    {
      __typename
      residents { id }
      __type(name: "Resident") { name fields { name } }
      __schema { queryType { name } }
    }
    """
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute(query)
    data = result["data"]
    assert data["__typename"] == "Query"
    assert data["residents"] == [{"id": "r1"}, {"id": "r2"}]
    assert data["__schema"] == {"queryType": {"name": "Query"}}
    names = {f["name"] for f in data["__type"]["fields"]}
    assert names == {"id", "name", "points", "balance"}  # @inaccessible `secret` is hidden
    assert all("__schema" not in r["query"] for s in subs for r in s.received)


async def test_root_fields_under_a_variable_condition_are_not_fetched_when_false() -> None:
    from gateway.planner import Condition

    query = """
    query ($withMoney: Boolean!) {
      residents { name }
      rich: residents @include(if: $withMoney) { points }
    }
    """
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        plan = gw.plan(query)
        without = await gw.execute(query, {"withMoney": False})
        calls_without = len(subs[1].received)
        with_money = await gw.execute(query, {"withMoney": True})
    conditions = [n for n in plan.node.nodes if isinstance(n, Condition)]
    assert [c.variable for c in conditions] == ["withMoney"]
    assert without == {"data": {"residents": [{"name": "Hana"}, {"name": "Sora"}]}}
    assert calls_without == 0
    assert with_money["data"]["rich"] == [{"points": 120}, {"points": None}]
    assert len(subs[1].received) == 1


async def test_same_field_twice_with_different_conditions() -> None:
    query = "query ($a: Boolean!, $b: Boolean!) { residents { name @include(if: $a) name @skip(if: $b) points @include(if: $a) points } }"
    async with gateway_for(subgraphs(), SUPERGRAPH) as gw:
        both_off = await gw.execute(query, {"a": False, "b": True})
        one_on = await gw.execute(query, {"a": False, "b": False})
    assert both_off["data"]["residents"][0] == {"points": 120}
    assert one_on["data"]["residents"][0] == {"name": "Hana", "points": 120}
    assert "errors" not in both_off and "errors" not in one_on


async def test_entity_refused_by_its_subgraph_is_reported_once_at_its_own_path() -> None:
    """Identity knows a stay's shelter only by id; safety refuses an unknown shelter with an error.
    The client gets the stay with `shelter: null` and safety's error at that path, not a second
    'Cannot return null' error for the shelter's non-null fields the refusal left empty."""

    def shelter(rep: dict) -> dict | Exception:
        if rep["id"] != "S1":
            # returned, not raised: graphql-core then fails this one list item, as a subgraph would
            return LookupError(f"safety holds no shelter {rep['id']!r}")
        return {"__typename": "Shelter", "id": "S1", "name": "Kakogawa hall"}

    subs = [
        Subgraph("identity", """
            type Query { stays: [Stay!]! }
            type Stay { person: String! shelter: Shelter }
            type Shelter @key(fields: "id", resolvable: false) { id: ID! }
        """, root={"stays": lambda: [{"person": "a", "shelter": {"id": "S1"}},
                                     {"person": "b", "shelter": {"id": "S999"}}]}),
        Subgraph("safety", """
            type Shelter @key(fields: "id") { id: ID! name: String! }
        """, entities={"Shelter": shelter}),
    ]
    supergraph = """
    type Query @join__type(graph: IDENTITY) @join__type(graph: SAFETY) {
      stays: [Stay!]! @join__field(graph: IDENTITY)
    }
    type Stay @join__type(graph: IDENTITY) {
      person: String!
      shelter: Shelter
    }
    type Shelter @join__type(graph: IDENTITY, key: "id", resolvable: false) @join__type(graph: SAFETY, key: "id") {
      id: ID!
      name: String! @join__field(graph: SAFETY)
    }
    """
    async with gateway_for(subs, supergraph) as gw:
        result = await gw.execute("{ stays { person shelter { id name } } }")
    assert result["data"] == {"stays": [{"person": "a", "shelter": {"id": "S1", "name": "Kakogawa hall"}},
                                        {"person": "b", "shelter": None}]}
    [error] = result["errors"]
    assert error["path"] == ["stays", 1, "shelter"]
    assert "S999" in error["message"]
