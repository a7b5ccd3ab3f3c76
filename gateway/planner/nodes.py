"""Plan nodes: plain dataclasses, printable and serialisable (`to_dict`) in the shape Apollo uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from gateway.planner.fetch_selection import FetchSelection


@dataclass
class Fetch:
    subgraph: str  # join__Graph name
    operation: str  # the GraphQL text sent to the subgraph
    variable_usages: list[str]
    operation_kind: str = "query"
    entity_type: str | None = None  # set for `_entities` fetches
    requires: FetchSelection | None = None  # representation shape: key + @requires fields
    representation_typename: str | None = None  # fixed __typename (interface objects), else the object's own
    accepted_types: frozenset[str] = frozenset()  # runtime __typename values this fetch applies to
    selection: FetchSelection | None = None  # what the fetch selects (under `... on entity_type` for entities)
    has_renames: bool = False
    key_fields: frozenset[str] = frozenset()  # representation fields that must be non-null to send it
    flat_requires: tuple[tuple[str, str], ...] | None = None  # (response key, name) when `requires` is flat
    id: int = 0

    def to_dict(self) -> dict:
        out: dict = {
            "kind": "Fetch",
            "serviceName": self.subgraph,
            "variableUsages": list(self.variable_usages),
            "operation": self.operation,
            "operationKind": self.operation_kind,
        }
        if self.requires is not None:
            out["requires"] = _selection_to_dicts(self.requires, self.entity_type)
        return out


@dataclass
class Flatten:
    path: list[str]  # response keys; "@" walks into a list
    node: Fetch

    def to_dict(self) -> dict:
        return {"kind": "Flatten", "path": list(self.path), "node": self.node.to_dict()}


@dataclass
class Sequence:
    nodes: list[PlanNode] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"kind": "Sequence", "nodes": [n.to_dict() for n in self.nodes]}


@dataclass
class Parallel:
    nodes: list[PlanNode] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"kind": "Parallel", "nodes": [n.to_dict() for n in self.nodes]}


@dataclass
class Condition:
    variable: str
    if_clause: PlanNode | None = None
    else_clause: PlanNode | None = None

    def to_dict(self) -> dict:
        return {
            "kind": "Condition",
            "condition": self.variable,
            "ifClause": self.if_clause.to_dict() if self.if_clause else None,
            "elseClause": self.else_clause.to_dict() if self.else_clause else None,
        }


PlanNode = Union[Sequence, Parallel, Fetch, Flatten, Condition]


@dataclass
class QueryPlan:
    node: PlanNode | None
    operation_kind: str = "query"
    errors: list[str] = field(default_factory=list)  # set when no plan exists; the executor reports them
    # the executor's per-plan memo (compiled response shapes); not part of the plan's data
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"kind": "QueryPlan", "node": self.node.to_dict() if self.node else None}

    def fetches(self) -> list[Fetch]:
        out: list[Fetch] = []

        def walk(n: PlanNode | None) -> None:
            if n is None:
                return
            if isinstance(n, Fetch):
                out.append(n)
            elif isinstance(n, Flatten):
                walk(n.node)
            elif isinstance(n, (Sequence, Parallel)):
                for c in n.nodes:
                    walk(c)
            elif isinstance(n, Condition):
                walk(n.if_clause)
                walk(n.else_clause)

        walk(self.node)
        return out


def _selection_to_dicts(selection: FetchSelection, type_condition: str | None) -> list[dict]:
    def fields(sel: FetchSelection) -> list[dict]:
        out: list[dict] = []
        for f in sel.fields.values():
            item: dict = {"kind": "Field", "name": f.name}
            if f.response_key != f.name:
                item["alias"] = f.response_key
            if f.sub is not None:
                item["selections"] = fields(f.sub)
            out.append(item)
        for frag in sel.fragments.values():
            out.append({"kind": "InlineFragment", "typeCondition": frag.type_condition, "selections": fields(frag.sub)})
        return out

    return [{"kind": "InlineFragment", "typeCondition": type_condition, "selections": fields(selection)}]
