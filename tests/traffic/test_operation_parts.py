from graphql import parse

from gateway.traffic.operation_parts import operation_parts

DOC = parse("query A { ...F } query B { __typename } fragment F on Query { __typename }")


def test_the_named_operation_and_the_fragments() -> None:
    operation, fragments = operation_parts(DOC, "B")
    assert operation.name.value == "B" and set(fragments) == {"F"}
    assert operation_parts(DOC, "C")[0] is None
    assert operation_parts(DOC, None)[0] is None          # two operations, no name: none chosen
    assert operation_parts(parse("{ __typename }"), None)[0] is not None
