"""Limits a document must meet before graphql-core validates it.

graphql-core's validation (its overlapping-fields rule above all) is quadratic in the number of
fields sharing a response name, and fragments multiply a small text into a huge expanded query.
So a hostile document is measured first, cheaply: byte size and token count while parsing
(graphql-core stops lexing at `max_tokens`), then one linear pass over the AST in which each
fragment is measured once and reused, so a fragment bomb is counted (as big integers) without
ever being expanded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class DocumentLimits:
    max_body_bytes: int = 8 * 1024 * 1024   # whole HTTP body (query + variables); above it: 413
    max_document_bytes: int = 512 * 1024    # the query text
    max_tokens: int = 15_000                # lexical tokens of the query text
    max_depth: int = 24                     # field nesting, fragments expanded
    max_aliases: int = 200                  # aliased fields, fragments expanded
    max_root_fields: int = 64               # fields of one operation's root selection, expanded
    max_fragments: int = 200                # fragment definitions in the document
    max_fragment_spreads: int = 1_000       # spreads counted as often as they are expanded
    # Fields with one response name in one selection set (fragments merged): what makes
    # the overlapping-fields check quadratic when their arguments differ.
    max_repeated_fields: int = 32


class DocumentLimitError(Exception):
    """The document breaks a limit; `code` goes into the GraphQL error's extensions."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class _Measure:
    """What a selection set (or fragment) adds when it is expanded once."""

    depth: int = 0
    aliases: int = 0
    spreads: int = 0
    fields: int = 0
    # response name -> fields with that name at this level (inline fragments and spreads merged)
    names: Counter[str] = field(default_factory=Counter)


class _Measurer:
    def __init__(self, document: DocumentNode, limits: DocumentLimits) -> None:
        self.limits = limits
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                self.fragments[definition.name.value] = definition
        self.done: dict[str, _Measure] = {}
        self.in_progress: set[str] = set()

    def fragment(self, name: str) -> _Measure:
        measured = self.done.get(name)
        if measured is not None:
            return measured
        definition = self.fragments.get(name)
        if definition is None:
            return _Measure()  # unknown fragment: validation reports it
        if name in self.in_progress:
            raise DocumentLimitError(f'Cannot spread fragment "{name}" within itself.', "GRAPHQL_VALIDATION_FAILED")
        self.in_progress.add(name)
        measured = self.selection_set(definition.selection_set, 0)
        self.in_progress.discard(name)
        self.done[name] = measured
        return measured

    def selection_set(self, selection_set: SelectionSetNode | None, level: int) -> _Measure:
        total = _Measure()
        if selection_set is None:
            return total
        if level >= self.limits.max_depth:
            # Checked on the way down too, so a deeply nested text never recurses far.
            raise DocumentLimitError(
                f"Document exceeds the maximum depth of {self.limits.max_depth}.", "MAX_DEPTH_LIMIT"
            )
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                child = self.selection_set(selection.selection_set, level + 1)
                total.depth = max(total.depth, child.depth + 1)
                total.aliases += child.aliases + (1 if selection.alias is not None else 0)
                total.spreads += child.spreads
                total.fields += child.fields + 1
                name = selection.alias.value if selection.alias is not None else selection.name.value
                total.names[name] += 1
                self.check_repeated(name, total.names[name])
            else:
                if isinstance(selection, InlineFragmentNode):
                    child = self.selection_set(selection.selection_set, level)
                elif isinstance(selection, FragmentSpreadNode):
                    child = self.fragment(selection.name.value)
                    total.spreads += 1
                else:  # pragma: no cover - graphql-core has no other selection kind
                    continue
                total.depth = max(total.depth, child.depth)
                total.aliases += child.aliases
                total.spreads += child.spreads
                total.fields += child.fields
                for name, count in child.names.items():
                    total.names[name] += count
                    self.check_repeated(name, total.names[name])
            self.check(total)
        return total

    def check(self, measure: _Measure) -> None:
        limits = self.limits
        if measure.depth > limits.max_depth:
            raise DocumentLimitError(
                f"Document exceeds the maximum depth of {limits.max_depth}.", "MAX_DEPTH_LIMIT"
            )
        if measure.aliases > limits.max_aliases:
            raise DocumentLimitError(
                f"Document exceeds the maximum of {limits.max_aliases} aliases.", "MAX_ALIASES_LIMIT"
            )
        if measure.spreads > limits.max_fragment_spreads:
            raise DocumentLimitError(
                f"Document expands more than {limits.max_fragment_spreads} fragment spreads.",
                "MAX_FRAGMENT_SPREADS_LIMIT",
            )

    def check_repeated(self, name: str, count: int) -> None:
        if count > self.limits.max_repeated_fields:
            raise DocumentLimitError(
                f'Field "{name}" is selected {count} times in one selection set;'
                f" the maximum is {self.limits.max_repeated_fields}.",
                "MAX_REPEATED_FIELDS_LIMIT",
            )


def check_document_limits(document: DocumentNode, limits: DocumentLimits) -> None:
    """Raise DocumentLimitError when the parsed document is too big to validate safely."""
    fragment_count = sum(isinstance(d, FragmentDefinitionNode) for d in document.definitions)
    if fragment_count > limits.max_fragments:
        raise DocumentLimitError(
            f"Document defines more than {limits.max_fragments} fragments.", "MAX_FRAGMENTS_LIMIT"
        )
    measurer = _Measurer(document, limits)
    for name in measurer.fragments:
        measurer.fragment(name)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root_fields = sum(measurer.selection_set(definition.selection_set, 0).names.values())
            if root_fields > limits.max_root_fields:
                raise DocumentLimitError(
                    f"Operation selects more than {limits.max_root_fields} root fields.",
                    "MAX_ROOT_FIELDS_LIMIT",
                )
