"""Planner gaps: an entity key field a subgraph marks @external is still one it can return (it names the
entity), so a selection through an interface whose members declare it so is planned; and a nested
selection after an entity jump is never dropped."""

from __future__ import annotations

from engine_kit import Subgraph, gateway_for

PEOPLE = {"p1": {"name": "Hana", "age": 40}, "p2": {"name": "Mio", "age": 4}}


def _facility_subgraphs() -> list[Subgraph]:
    def person(typename: str):
        return lambda rep: {"__typename": typename, "id": rep["id"], **PEOPLE[rep["id"]]}

    return [
        Subgraph("catalog", """
            type Query { facility: Facility @provides(fields: "residents { ... on Adult { name } }") }
            interface Person { id: ID! }
            type Facility @key(fields: "id") { id: ID! residents: [Person] @shareable }
            type Adult implements Person @key(fields: "id") { id: ID! @external name: String @external }
            type Child implements Person @key(fields: "id") { id: ID! @external }
        """, root={"facility": lambda: {"id": "f1", "residents": [
            {"__typename": "Adult", "id": "p1", "name": "Hana"}, {"__typename": "Child", "id": "p2"}]}}),
        Subgraph("people", """
            interface Person { id: ID! name: String }
            type Facility @key(fields: "id") { id: ID! residents: [Person] @shareable }
            type Adult implements Person @key(fields: "id") { id: ID! name: String @shareable age: Int }
            type Child implements Person @key(fields: "id") { id: ID! name: String @shareable age: Int }
        """, entities={"Adult": person("Adult"), "Child": person("Child"),
                       "Facility": lambda rep: {"__typename": "Facility", "id": rep["id"], "residents": [
                           person("Adult")({"id": "p1"}), person("Child")({"id": "p2"})]}}),
    ]


FACILITY_SUPERGRAPH = """
type Query @join__type(graph: CATALOG) @join__type(graph: PEOPLE) {
  facility: Facility @join__field(graph: CATALOG, provides: "residents { ... on Adult { name } }")
}
interface Person @join__type(graph: CATALOG) @join__type(graph: PEOPLE) {
  id: ID!
  name: String @join__field(graph: PEOPLE)
}
type Facility @join__type(graph: CATALOG, key: "id") @join__type(graph: PEOPLE, key: "id") {
  id: ID!
  residents: [Person] @join__field(graph: CATALOG) @join__field(graph: PEOPLE)
}
type Adult implements Person @join__implements(graph: CATALOG, interface: "Person")
    @join__implements(graph: PEOPLE, interface: "Person")
    @join__type(graph: CATALOG, key: "id") @join__type(graph: PEOPLE, key: "id") {
  id: ID! @join__field(graph: CATALOG, external: true) @join__field(graph: PEOPLE)
  name: String @join__field(graph: CATALOG, external: true) @join__field(graph: PEOPLE)
  age: Int @join__field(graph: PEOPLE)
}
type Child implements Person @join__implements(graph: CATALOG, interface: "Person")
    @join__implements(graph: PEOPLE, interface: "Person")
    @join__type(graph: CATALOG, key: "id") @join__type(graph: PEOPLE, key: "id") {
  id: ID! @join__field(graph: CATALOG, external: true) @join__field(graph: PEOPLE)
  name: String @join__field(graph: PEOPLE)
  age: Int @join__field(graph: PEOPLE)
}
"""


async def test_an_interface_field_external_on_its_members_in_the_provider_is_planned() -> None:
    async with gateway_for(_facility_subgraphs(), FACILITY_SUPERGRAPH) as gw:
        ids = await gw.execute("{ facility { residents { id } } }")
        named = await gw.execute("{ facility { id residents { id name ... on Child { age } } } }")
    assert ids == {"data": {"facility": {"residents": [{"id": "p1"}, {"id": "p2"}]}}}
    assert named == {"data": {"facility": {"id": "f1", "residents": [
        {"id": "p1", "name": "Hana"}, {"id": "p2", "name": "Mio", "age": 4}]}}}


CHATS = {"c1": {"text": "hello", "account": "a1"}, "c2": {"text": "bye", "account": "a1"}}
ACCOUNTS = {"a1": {"username": "hana", "chats": ["c1", "c2"]}}


def _chat_subgraphs() -> list[Subgraph]:
    return [
        Subgraph("accounts", """
            type Query { account(id: String!): Account }
            type Account @key(fields: "id") { id: ID! username: String! }
            type Chat @key(fields: "id") { id: ID! @external account: Account! }
        """, root={"account": lambda id: {"id": id, "username": ACCOUNTS[id]["username"]}},
            entities={
                "Account": lambda rep: {"__typename": "Account", "id": rep["id"],
                                        "username": ACCOUNTS[rep["id"]]["username"]},
                "Chat": lambda rep: {"__typename": "Chat", "id": rep["id"],
                                     "account": {"id": CHATS[rep["id"]]["account"],
                                                 "username": ACCOUNTS[CHATS[rep["id"]]["account"]]["username"]}},
            }),
        Subgraph("chats", """
            type Query { chat(id: String!): Chat }
            type Account @key(fields: "id") { id: ID! @external chats: [Chat!]! }
            type Chat @key(fields: "id") { id: ID! text: String! }
        """, root={"chat": lambda id: {"id": id, "text": CHATS[id]["text"]}},
            entities={
                "Account": lambda rep: {"__typename": "Account", "id": rep["id"],
                                        "chats": [{"id": c, "text": CHATS[c]["text"]} for c in ACCOUNTS[rep["id"]]["chats"]]},
                "Chat": lambda rep: {"__typename": "Chat", "id": rep["id"], "text": CHATS[rep["id"]]["text"]},
            }),
    ]


CHAT_SUPERGRAPH = """
type Query @join__type(graph: ACCOUNTS) @join__type(graph: CHATS) {
  account(id: String!): Account @join__field(graph: ACCOUNTS)
  chat(id: String!): Chat @join__field(graph: CHATS)
}
type Account @join__type(graph: ACCOUNTS, key: "id") @join__type(graph: CHATS, key: "id") {
  id: ID! @join__field(graph: ACCOUNTS) @join__field(graph: CHATS, external: true)
  username: String! @join__field(graph: ACCOUNTS)
  chats: [Chat!]! @join__field(graph: CHATS)
}
type Chat @join__type(graph: ACCOUNTS, key: "id") @join__type(graph: CHATS, key: "id") {
  id: ID! @join__field(graph: ACCOUNTS, external: true) @join__field(graph: CHATS)
  account: Account! @join__field(graph: ACCOUNTS)
  text: String! @join__field(graph: CHATS)
}
"""


async def test_a_nested_selection_after_an_entity_jump_is_planned() -> None:
    async with gateway_for(_chat_subgraphs(), CHAT_SUPERGRAPH) as gw:
        result = await gw.execute('{ chat(id: "c1") { text account { username chats { id text } } } }')
        deeper = await gw.execute('{ account(id: "a1") { chats { account { chats { text } } } } }')
    assert result == {"data": {"chat": {"text": "hello", "account": {
        "username": "hana", "chats": [{"id": "c1", "text": "hello"}, {"id": "c2", "text": "bye"}]}}}}
    assert deeper == {"data": {"account": {"chats": [
        {"account": {"chats": [{"text": "hello"}, {"text": "bye"}]}},
        {"account": {"chats": [{"text": "hello"}, {"text": "bye"}]}}]}}}


NODE_SUPERGRAPH = CHAT_SUPERGRAPH.replace(
    "  chat(id: String!): Chat @join__field(graph: CHATS)\n}",
    "  chat(id: String!): Chat @join__field(graph: CHATS)\n  node(id: ID!): Node @join__field(graph: ACCOUNTS) @join__field(graph: CHATS)\n}\n"
    "interface Node @join__type(graph: ACCOUNTS) @join__type(graph: CHATS) { id: ID! }",
).replace(
    'type Account @join__type', 'type Account implements Node @join__implements(graph: ACCOUNTS, interface: "Node") '
    '@join__implements(graph: CHATS, interface: "Node") @join__type',
).replace(
    'type Chat @join__type', 'type Chat implements Node @join__implements(graph: ACCOUNTS, interface: "Node") '
    '@join__implements(graph: CHATS, interface: "Node") @join__type',
)


async def test_an_interface_field_no_subgraph_can_return_for_every_member_is_still_refused() -> None:
    # Each subgraph marks the key of one Node implementation external, and no parent field leads elsewhere.
    async with gateway_for(_chat_subgraphs(), NODE_SUPERGRAPH) as gw:
        plan = gw.plan('{ node(id: "a1") { id } }')
    assert plan.node is None
    assert plan.errors and "Node.id" in plan.errors[0] and "external" in plan.errors[0]


async def test_a_member_field_past_a_key_the_provider_lacks_is_fetched_with_its_parent_field() -> None:
    # catalog cannot name an Adult (its id is external and not provided), so age is read where the
    # parent field is resolved too: people's Facility.residents, in one entity fetch of the Facility,
    # not a second fetch of the residents' ids followed by an Adult entity fetch (found by the
    # differential test: the audit's provides-on-interface subgraph refuses that poor plan).
    subgraphs = _facility_subgraphs()
    async with gateway_for(subgraphs, FACILITY_SUPERGRAPH) as gw:
        result = await gw.execute("{ facility { residents { ... on Adult { age } } } }")
    assert result == {"data": {"facility": {"residents": [{"age": 40}, {}]}}}
    people = next(s for s in subgraphs if s.name == "people")
    representations = [r["__typename"] for call in people.entity_calls()
                       for r in call["variables"]["representations"]]
    assert representations == ["Facility"]
