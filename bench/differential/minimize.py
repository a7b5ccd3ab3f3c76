"""Shrink a differing operation while the difference keeps its signature (greedy, one edit at a time).

Edits, tried in document order: remove a selection (field, inline fragment, spread), remove a
directive, remove an alias, remove an argument. After each edit unused fragments and variables are
dropped; an edit that leaves the document invalid (empty selection, missing required argument) is
skipped. The caller's `still_differs` re-runs both gateways, so the number of tries is bounded.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)

from bench.differential.generator import GeneratedOperation

_EDITS = ("selection", "directive", "alias", "argument")


class _Edit(Visitor):
    def __init__(self, kind: str, target: int) -> None:
        super().__init__()
        self.kind = kind
        self.target = target
        self.seen = 0

    def _hit(self) -> bool:
        self.seen += 1
        return self.seen - 1 == self.target

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        if self.kind == "selection" and self._hit():
            return REMOVE
        if self.kind == "alias" and node.alias is not None and self._hit():
            return FieldNode(alias=None, name=node.name, arguments=node.arguments, directives=node.directives,
                             selection_set=node.selection_set)
        return None

    def enter_inline_fragment(self, *_: Any) -> Any:
        return REMOVE if self.kind == "selection" and self._hit() else None

    def enter_fragment_spread(self, *_: Any) -> Any:
        return REMOVE if self.kind == "selection" and self._hit() else None

    def enter_directive(self, *_: Any) -> Any:
        return REMOVE if self.kind == "directive" and self._hit() else None

    def enter_argument(self, *_: Any) -> Any:
        return REMOVE if self.kind == "argument" and self._hit() else None


def _used_names(document: DocumentNode) -> tuple[set[str], set[str]]:
    fragments: set[str] = set()
    variables: set[str] = set()

    class Collect(Visitor):
        def enter_fragment_spread(self, node: Any, *_: Any) -> None:
            fragments.add(node.name.value)

        def enter_variable(self, node: Any, key: Any, parent: Any, *_: Any) -> None:
            if key != "variable":  # a use, not the variable definition itself
                variables.add(node.name.value)

    visit(document, Collect())
    return fragments, variables


def _tidy(document: DocumentNode, op: GeneratedOperation) -> GeneratedOperation:
    """Drop fragments and variables nothing uses any more (repeat: a dropped fragment may hold spreads)."""
    while True:
        fragments, variables = _used_names(document)
        definitions = tuple(d for d in document.definitions
                            if not isinstance(d, FragmentDefinitionNode) or d.name.value in fragments)
        operation = next(d for d in definitions if isinstance(d, OperationDefinitionNode))
        kept = tuple(v for v in operation.variable_definitions or () if v.variable.name.value in variables)
        operation = OperationDefinitionNode(operation=operation.operation, name=operation.name,
                                            variable_definitions=kept, directives=operation.directives,
                                            selection_set=operation.selection_set)
        tidied = DocumentNode(definitions=tuple(operation if isinstance(d, OperationDefinitionNode) else d
                                                for d in definitions))
        if len(tidied.definitions) == len(document.definitions) and \
                len(kept) == len(next(d for d in document.definitions
                                      if isinstance(d, OperationDefinitionNode)).variable_definitions or ()):
            break
        document = tidied
    names = {v.variable.name.value for v in kept}
    return replace(op, document=document, variables={k: v for k, v in op.variables.items() if k in names},
                   per_gateway=tuple(n for n in op.per_gateway if n in names))


def _valid(schema: GraphQLSchema, op: GeneratedOperation) -> bool:
    try:
        reparsed = parse(print_ast(op.document))
    except GraphQLError:
        return False
    return not validate(schema, reparsed)


def minimize(schema: GraphQLSchema, op: GeneratedOperation, still_differs: Callable[[GeneratedOperation], bool],
             max_tries: int = 80) -> GeneratedOperation:
    tries = 0
    progress = True
    while progress and tries < max_tries:
        progress = False
        for kind in _EDITS:
            target = 0
            while tries < max_tries:
                edit = _Edit(kind, target)
                edited = visit(op.document, edit)
                if edit.seen <= target:
                    break  # no such edit left
                candidate = _tidy(edited, op)
                if _valid(schema, candidate):
                    tries += 1
                    if still_differs(candidate):
                        op = candidate
                        progress = True
                        continue  # the same index now names the next node
                target += 1
    return op
