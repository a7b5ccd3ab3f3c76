"""Fields with one response key are merged before planning, each merged field keeping its own sub-selection.

Found by the differential test (bench/differential): merging builds selection sets that live only
while the pass runs, and the pass remembered its outputs by `id()` of the input; a later merged
selection set allocated at a freed one's address was answered with the earlier output, so
`b: me { children { id } children { id } }` came back with `children { name }` from another branch.
"""

from __future__ import annotations

import pytest
from engine_kit import gateway_for
from graphql import OperationDefinitionNode, parse, print_ast
from municipal_kit import MUNICIPAL_SUPERGRAPH, municipal_subgraphs

from gateway.document.normalization import normalize_selection


def _normalized(query: str) -> str:
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return " ".join(print_ast(normalize_selection(operation.selection_set, {})).split())


@pytest.mark.parametrize(("query", "expected"), [
    ("{ a { x { y } } a { x { y } } b { p { q } } b { p { q } } }",
     "{ a { x { y } } b { p { q } } }"),
    ("{ me { children { name } children { name } } b: me { children { id } children { id } } }",
     "{ me { children { name } } b: me { children { id } } }"),
    ("{ a: me { children { name } children { name } } b: me { pointAccount { balance } pointAccount { balance } } }",
     "{ a: me { children { name } } b: me { pointAccount { balance } } }"),
    ("{ t { s { c { m { n } } c { m { n } } } f { p { p } } f { p { p } } } }",
     "{ t { s { c { m { n } } } f { p { p } } } }"),
])
def test_each_merged_field_keeps_its_own_sub_selection(query: str, expected: str) -> None:
    assert _normalized(query) == expected


async def test_a_second_merged_branch_is_answered_with_its_own_fields() -> None:
    query = "{ me { children { name } children { name } } b: me { children { id } children { id } } }"
    async with gateway_for(municipal_subgraphs(), MUNICIPAL_SUPERGRAPH) as gw:
        result = await gw.execute(query)
    assert result == {"data": {"me": {"children": [{"name": "Mio"}, {"name": "Riku"}]},
                               "b": {"children": [{"id": "c1"}, {"id": "c2"}]}}}
