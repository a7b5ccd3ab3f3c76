"""The selection a planner builds for one subgraph fetch, and its printer.

A tree of fields (keyed by the key they get in the merged response) and inline fragments. Fields carry
the argument and directive text already printed from the client's document, so printing is a join.
`sent_key` differs from `response_key` only where a field must be aliased in the subgraph query
(a field whose type differs between sibling fragments); the executor renames it back.
A plan never holds these (they change while the planner works): `frozen()` copies one for a Fetch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.planner.nodes import PlanField, PlanFragment, PlanSelection


@dataclass
class FetchField:
    response_key: str
    name: str
    args_text: str = ""  # "(a: 1, b: $v)" or ""
    directives_text: str = ""  # " @include(if: $x)" or ""
    sub: FetchSelection | None = None
    sent_key: str | None = None  # alias used in the subgraph query if not response_key
    variables: frozenset[str] = frozenset()  # read by args_text and directives_text

    def signature(self) -> tuple[str, str, str]:
        return (self.name, self.args_text, self.directives_text)


@dataclass
class FetchFragment:
    type_condition: str | None
    directives_text: str
    sub: FetchSelection
    variables: frozenset[str] = frozenset()  # read by directives_text


@dataclass
class FetchSelection:
    fields: dict[str, FetchField] = field(default_factory=dict)
    fragments: dict[tuple[str | None, str, int], FetchFragment] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.fields and not self.fragments

    def add_field(self, response_key: str, name: str, args_text: str = "", directives_text: str = "",
                  with_sub: bool = False, variables: frozenset[str] = frozenset()) -> FetchField | None:
        """Add (or find) a field. Returns None if the key is taken by a different field."""
        existing = self.fields.get(response_key)
        if existing is not None:
            if existing.name != name or existing.args_text != args_text or existing.directives_text != directives_text:
                return None
            if with_sub and existing.sub is None:
                existing.sub = FetchSelection()
            return existing
        created = FetchField(response_key, name, args_text, directives_text, FetchSelection() if with_sub else None,
                             variables=variables)
        self.fields[response_key] = created
        return created

    def fragment(self, type_condition: str | None, directives_text: str = "", slot: int = 0,
                 variables: frozenset[str] = frozenset()) -> FetchSelection:
        """The inline fragment with this condition and directives (`slot` > 0: a separate one)."""
        key = (type_condition, directives_text, slot)
        existing = self.fragments.get(key)
        if existing is None:
            existing = FetchFragment(type_condition, directives_text, FetchSelection(), variables)
            self.fragments[key] = existing
        return existing.sub

    def merge_from(self, other: FetchSelection) -> None:
        for key, f in other.fields.items():
            mine = self.fields.get(key)
            if mine is None:
                self.fields[key] = f
            elif f.sub is not None:
                if mine.sub is None:
                    mine.sub = FetchSelection()
                mine.sub.merge_from(f.sub)
        for frag_key, frag in other.fragments.items():
            mine_frag = self.fragments.get(frag_key)
            if mine_frag is None:
                self.fragments[frag_key] = frag
            else:
                mine_frag.sub.merge_from(frag.sub)

    def has_renames(self) -> bool:
        for f in self.fields.values():
            if f.sent_key is not None or (f.sub is not None and f.sub.has_renames()):
                return True
        return any(frag.sub.has_renames() for frag in self.fragments.values())

    def used_variables(self) -> set[str]:
        """The variables the printed selection reads (what `print` prints, no more: an empty fragment
        is not printed, so what only it reads is not declared)."""
        used: set[str] = set()
        for f in self.fields.values():
            used |= f.variables
            if f.sub is not None:
                used |= f.sub.used_variables()
        for frag in self.fragments.values():
            if not frag.sub.is_empty():
                used |= frag.variables | frag.sub.used_variables()
        return used

    def frozen(self) -> PlanSelection:
        """An immutable copy for a plan node (the planner keeps changing its own groups)."""
        return PlanSelection(
            tuple(PlanField(f.response_key, f.name, f.sent_key, f.sub.frozen() if f.sub is not None else None)
                  for f in self.fields.values()),
            tuple(PlanFragment(frag.type_condition, frag.sub.frozen()) for frag in self.fragments.values()),
        )

    def print(self, indent: int = 1, pretty: bool = False) -> str:
        parts: list[str] = []
        for f in self.fields.values():
            head = f.name if f.sent_key is None and f.response_key == f.name else f"{f.sent_key or f.response_key}: {f.name}"
            text = head + f.args_text + f.directives_text
            if f.sub is not None:
                inner = f.sub.print(indent + 1, pretty) if not f.sub.is_empty() else "__typename"
                text += " {" + _wrap(inner, indent, pretty) + "}"
            parts.append(text)
        for frag in self.fragments.values():
            if frag.sub.is_empty():
                continue
            cond = f" on {frag.type_condition}" if frag.type_condition else ""
            parts.append("..." + cond + frag.directives_text + " {" + _wrap(frag.sub.print(indent + 1, pretty), indent, pretty) + "}")
        if not parts:
            parts.append("__typename")
        if pretty:
            pad = "  " * indent
            return "\n".join(pad + p for p in parts)
        return " ".join(parts)


def _wrap(inner: str, indent: int, pretty: bool) -> str:
    if pretty:
        return "\n" + inner + "\n" + "  " * indent
    return " " + inner + " "
