"""@authenticated / @requiresScopes / @policy pruning against an Apollo-composed supergraph."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_ast_schema, parse, print_ast, validate

from auth.principal import Principal
from gateway.authorization import UNAUTHORIZED_CODE, authorize, null_removed_fields

SDL = (Path(__file__).parent / "fixtures" / "authz_supergraph.graphql").read_text()
SCHEMA = build_ast_schema(parse(SDL))


def who(*scopes: str, roles=("resident",)) -> Principal:
    return Principal("res-1", "282014", frozenset(roles), frozenset(scopes))


def run(query: str, principal: Principal | None, operation_name: str | None = None, hook=None):
    document = parse(query)
    result = authorize(SCHEMA, document, operation_name, principal, hook)
    if result.document is not None:
        assert validate(SCHEMA, result.document) == []  # the planner gets a valid document
    return result


def paths(result) -> list[list]:
    return [error["path"] for error in result.errors]


def test_nothing_guarded_leaves_the_document_untouched():
    document = parse("{ shelters { id name } }")
    result = authorize(SCHEMA, document, None, None)
    assert result.document is document and result.errors == [] and result.signature is None


def test_renamed_authenticated_removes_field_for_anonymous_and_keeps_it_when_signed_in():
    anonymous = run("{ shelters { name occupancy } }", None)
    assert print_ast(anonymous.document).split() == "{ shelters { name } }".split()
    assert anonymous.errors == [{
        "message": "Unauthorized field or type",
        "path": ["shelters", "@", "occupancy"],
        "locations": [{"line": 1, "column": 19}],
        "extensions": {"code": UNAUTHORIZED_CODE},
    }]
    signed_in = run("{ shelters { name occupancy } }", who())
    assert signed_in.errors == [] and "occupancy" in print_ast(signed_in.document)


def test_only_field_removed_means_no_document():
    result = run("{ me { name } }", None)
    assert result.document is None
    assert paths(result) == [["me"]]


def test_requires_scopes_is_an_or_of_ands():
    query = "{ residents { id } shelters { id } }"
    assert paths(run(query, who("identity:read"))) == [["residents"]]  # half of the first AND
    assert paths(run(query, who("identity:read", "staff"))) == []
    assert paths(run(query, who("admin"))) == []
    assert paths(run(query, None)) == [["residents"]]


def test_type_requirement_applies_to_fields_returning_it():
    result = run("{ audit { entries } shelters { id } }", who("identity:read"))
    assert paths(result) == [["audit"]]
    assert paths(run("{ audit { entries } }", who("audit:read"))) == []


def test_policy_decided_by_hook_and_denied_without_one():
    query = "query Q { me { name notes } }"
    assert paths(run(query, who())) == [["me", "notes"]]
    granted = run(query, who(), hook=lambda principal, policy: policy == "case-worker" and principal is not None)
    assert paths(granted) == []
    failing = run(query, who(), hook=lambda principal, policy: 1 / 0)
    assert paths(failing) == [["me", "notes"]]


def test_interface_field_needs_what_every_implementation_needs():
    # Node.id is open on both implementations; Shelter.occupancy only exists on Shelter.
    result = run('{ node(id: "x") { id ... on Shelter { occupancy } ... on Resident { birthDate } } }', who())
    assert paths(result) == [["node", "birthDate"]]
    assert "occupancy" in print_ast(result.document)


def test_aliases_and_named_fragments_are_pruned_per_use_site():
    query = """
    query Q {
      me { ...Person }
      who: residents { ...Person }
    }
    fragment Person on Resident { name born: birthDate children { name } }
    """
    result = run(query, who("admin"))
    assert paths(result) == [["me", "born"], ["who", "@", "born"]]
    printed = print_ast(result.document)
    assert "birthDate" not in printed and "fragment Person" not in printed
    assert printed.count("children") == 2
    untouched = run(query, who("admin", "identity:read"))
    assert untouched.errors == [] and "fragment Person" in print_ast(untouched.document)


def test_parent_with_every_child_removed_is_removed_too():
    result = run("{ me { birthDate } shelters { id } }", who())
    assert paths(result) == [["me", "birthDate"]]
    assert print_ast(result.document).split() == "{ shelters { id } }".split()


def test_other_operations_are_ignored_and_the_named_one_is_pruned():
    query = "query A { shelters { id } } query B { me { name birthDate } }"
    result = run(query, who(), operation_name="B")
    assert paths(result) == [["me", "birthDate"]]
    assert "query B" in print_ast(result.document)


def test_signature_differs_by_what_was_removed():
    query = "{ me { name birthDate notes } }"
    a = run(query, who())
    b = run(query, who("identity:read"))
    assert a.signature and b.signature and a.signature != b.signature


def test_removed_fields_come_back_null_in_the_response():
    result = run("{ shelters { name occupancy } }", None)
    data = {"shelters": [{"name": "A"}, {"name": "B"}]}
    assert null_removed_fields(data, result.removed_paths) == {
        "shelters": [{"name": "A", "occupancy": None}, {"name": "B", "occupancy": None}]
    }


def test_works_from_a_supergraph_object_too():
    class Supergraph:
        schema = SCHEMA

    assert paths(authorize(Supergraph(), parse("{ me { name } }"), None, None)) == [["me"]]


@pytest.mark.parametrize("principal", [None, who()])
def test_introspection_and_typename_are_always_allowed(principal):
    result = run("{ __typename __schema { queryType { name } } }", principal)
    assert result.errors == []


HAND_WRITTEN = build_ast_schema(parse('''
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
scalar Secret @requiresScopes(scopes: [["secret:read"]])
enum Level @authenticated { LOW HIGH }
interface Account @authenticated { id: ID! }
type User implements Account { id: ID! name: String }
type Query { secret: Secret  level: Level  account: Account  user: User  open: String }
'''))


def test_scalar_enum_and_interface_requirements_without_any_link():
    query = "{ secret level account { id } user { name } open }"
    result = authorize(HAND_WRITTEN, parse(query), None, None)
    assert paths(result) == [["secret"], ["level"], ["account"]]  # in document order
    assert print_ast(result.document).split() == "{ user { name } open }".split()
    signed_in = authorize(HAND_WRITTEN, parse(query), None, who())
    assert paths(signed_in) == [["secret"]]
    assert paths(authorize(HAND_WRITTEN, parse(query), None, who("secret:read"))) == []


def test_a_parent_left_empty_comes_back_null_too():
    result = run("{ me { birthDate } shelters { id } }", who())
    data = null_removed_fields({"shelters": [{"id": "s1"}]}, result.removed_paths)
    assert data == {"me": None, "shelters": [{"id": "s1"}]}


def test_removed_non_null_field_nulls_its_nearest_nullable_ancestor():
    # Query.residents is [Resident!]!: nothing above it may be null, so all of data is
    result = run("{ residents { id } shelters { id } }", who())
    assert null_removed_fields({"shelters": [{"id": "s1"}]}, result.removed_paths) is None
    # Resident.birthDate is nullable: only it becomes null
    result = run("{ me { id birthDate } }", who())
    assert null_removed_fields({"me": {"id": "r"}}, result.removed_paths) == {"me": {"id": "r", "birthDate": None}}


def test_propagation_inside_lists_stops_at_a_nullable_item():
    from gateway.authorization.pruning import RemovedPath

    # items nullable: only the item becomes null
    path = RemovedPath(("list", "@", "secret"), (False, True, False))
    assert null_removed_fields({"list": [{"a": 1}, None]}, [path]) == {"list": [None, None]}
    # items non-null, list nullable: the list becomes null
    path = RemovedPath(("list", "@", "secret"), (True, False, False))
    assert null_removed_fields({"list": [{"a": 1}], "b": 2}, [path]) == {"list": None, "b": 2}
    # a key another selection kept is left alone
    path = RemovedPath(("x",), (True,))
    assert null_removed_fields({"x": 5}, [path]) == {"x": 5}


def test_outcomes_are_reused_per_document_but_never_across_principals():
    document = parse("{ me { name birthDate } shelters { occupancy } }")
    anonymous = authorize(SCHEMA, document, None, None)
    anonymous.errors[0]["path"].append("mutated by a caller")
    again = authorize(SCHEMA, document, None, None)
    assert paths(again) == [["me"], ["shelters", "@", "occupancy"]]
    assert paths(authorize(SCHEMA, document, None, who())) == [["me", "birthDate"]]
    assert paths(authorize(SCHEMA, document, None, who("identity:read"))) == []
    hook_calls = []
    notes = parse("{ me { notes } }")
    for _ in range(2):
        authorize(SCHEMA, notes, None, who(), lambda principal, policy: hook_calls.append(policy) or True)
    assert hook_calls == ["case-worker", "case-worker"]  # policy outcomes are decided per request


def test_remembered_outcomes_do_not_keep_their_document_alive():
    import gc
    import weakref

    document = parse("{ me { name } }")
    assert paths(authorize(SCHEMA, document, None, None)) == [["me"]]
    assert paths(authorize(SCHEMA, document, None, None)) == [["me"]]   # the remembered outcome
    alive = weakref.ref(document)
    del document
    gc.collect()
    assert alive() is None
