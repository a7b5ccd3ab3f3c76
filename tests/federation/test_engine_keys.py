"""Composite and nested keys, several keys (the one the current subgraph can supply), @override."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for

SEATS = [{"number": 7, "hall": {"code": "kakogawa-north"}, "row": "B"}]


def subgraphs() -> list[Subgraph]:
    return [
        Subgraph("venues", """
            type Query { seats: [Seat!]! }
            type Hall { code: String! }
            type Seat @key(fields: "number hall { code }") { number: Int! hall: Hall! row: String }
        """, root={"seats": lambda: [dict(s) for s in SEATS]}),
        Subgraph("booking", """
            type Hall { code: String! }
            type Seat @key(fields: "number hall { code }") { number: Int! hall: Hall! booked: Boolean ticket: Ticket }
            type Ticket @key(fields: "serial") @key(fields: "id") { id: ID! serial: String! }
        """, entities={"Seat": lambda rep: {"__typename": "Seat", **rep, "booked": rep["hall"]["code"] == "kakogawa-north",
                                            "ticket": {"id": "t1", "serial": "S-001"}}}),
        Subgraph("tickets", """
            type Ticket @key(fields: "id") { id: ID! price: Int holder: String }
        """, entities={"Ticket": lambda rep: {"__typename": "Ticket", "id": rep["id"], "price": 1500,
                                              "holder": "from tickets"}}),
        Subgraph("people", """
            type Ticket @key(fields: "serial") { serial: String! holder: String }
        """, entities={"Ticket": lambda rep: {"__typename": "Ticket", "serial": rep["serial"], "holder": "from people"}}),
    ]


SUPERGRAPH = """
type Query @join__type(graph: VENUES) @join__type(graph: BOOKING) @join__type(graph: TICKETS) @join__type(graph: PEOPLE) {
  seats: [Seat!]! @join__field(graph: VENUES)
}
type Hall @join__type(graph: VENUES) @join__type(graph: BOOKING) { code: String! }
type Seat @join__type(graph: VENUES, key: "number hall { code }") @join__type(graph: BOOKING, key: "number hall { code }") {
  number: Int!
  hall: Hall!
  row: String @join__field(graph: VENUES)
  booked: Boolean @join__field(graph: BOOKING)
  ticket: Ticket @join__field(graph: BOOKING)
}
type Ticket @join__type(graph: BOOKING, key: "serial") @join__type(graph: BOOKING, key: "id")
            @join__type(graph: TICKETS, key: "id") @join__type(graph: PEOPLE, key: "serial") {
  id: ID! @join__field(graph: BOOKING) @join__field(graph: TICKETS)
  serial: String! @join__field(graph: BOOKING) @join__field(graph: PEOPLE)
  price: Int @join__field(graph: TICKETS)
  holder: String @join__field(graph: PEOPLE, override: "tickets") @join__field(graph: TICKETS, usedOverridden: true)
}
"""


async def test_nested_composite_key_travels_whole() -> None:
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ seats { row booked } }")
    assert result == {"data": {"seats": [{"row": "B", "booked": True}]}}
    assert subs[1].entity_calls()[0]["variables"]["representations"] == [
        {"__typename": "Seat", "number": 7, "hall": {"code": "kakogawa-north"}}]


async def test_each_jump_uses_a_key_its_target_resolves() -> None:
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        result = await gw.execute("{ seats { ticket { price holder } } }")
    assert result == {"data": {"seats": [{"ticket": {"price": 1500, "holder": "from people"}}]}}
    assert subs[2].entity_calls()[0]["variables"]["representations"] == [{"__typename": "Ticket", "id": "t1"}]
    assert subs[3].entity_calls()[0]["variables"]["representations"] == [{"__typename": "Ticket", "serial": "S-001"}]


async def test_override_sends_the_field_to_its_new_owner() -> None:
    subs = subgraphs()
    async with gateway_for(subs, SUPERGRAPH) as gw:
        plan = gw.plan("{ seats { ticket { holder } } }")
    assert "TICKETS" not in [f.subgraph for f in plan.fetches()]
    assert [f.subgraph for f in plan.fetches()][-1] == "PEOPLE"
