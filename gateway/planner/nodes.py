"""Plan nodes: immutable plain data (frozen dataclasses, tuples), printable and serialisable.

`to_dict()` gives the shape Apollo uses (`kind`, `serviceName`, `operation`, `requires`, …) plus what
kyodo's executor needs to run a fetch (entity type, accepted types, key fields, output renames, id);
`QueryPlan.from_dict()` rebuilds an equal plan from it. The planner shares nothing mutable with a
plan: the selections a fetch carries are frozen copies of the planner's working ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class PlanField:
    response_key: str
    name: str
    sent_key: str | None = None  # the alias used in the subgraph query, when not response_key
    sub: PlanSelection | None = None


@dataclass(frozen=True)
class PlanFragment:
    type_condition: str | None
    sub: PlanSelection


@dataclass(frozen=True)
class PlanSelection:
    """A representation shape (`requires`) or the part of a fetch's selection the executor reads."""

    fields: tuple[PlanField, ...] = ()
    fragments: tuple[PlanFragment, ...] = ()

    def flat(self) -> tuple[tuple[str, str], ...] | None:
        """(response key, name) pairs if the selection is flat (no nesting, no fragments), else None."""
        if self.fragments or any(f.sub is not None for f in self.fields):
            return None
        return tuple((f.response_key, f.name) for f in self.fields)

    def to_dicts(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for f in self.fields:
            item: dict[str, Any] = {"kind": "Field", "name": f.name}
            if f.response_key != f.name:
                item["alias"] = f.response_key
            if f.sent_key is not None:
                item["sentKey"] = f.sent_key
            if f.sub is not None:
                item["selections"] = f.sub.to_dicts()
            out.append(item)
        for frag in self.fragments:
            out.append({"kind": "InlineFragment", "typeCondition": frag.type_condition,
                        "selections": frag.sub.to_dicts()})
        return out

    @classmethod
    def from_dicts(cls, items: list[dict[str, Any]]) -> PlanSelection:
        fields: list[PlanField] = []
        fragments: list[PlanFragment] = []
        for item in items:
            if item["kind"] == "Field":
                sub = item.get("selections")
                fields.append(PlanField(item.get("alias", item["name"]), item["name"], item.get("sentKey"),
                                        cls.from_dicts(sub) if sub is not None else None))
            else:
                fragments.append(PlanFragment(item.get("typeCondition"), cls.from_dicts(item["selections"])))
        return cls(tuple(fields), tuple(fragments))


@dataclass(frozen=True)
class Fetch:
    subgraph: str  # join__Graph name
    operation: str  # the GraphQL text sent to the subgraph
    variable_usages: tuple[str, ...]
    operation_kind: str = "query"
    entity_type: str | None = None  # set for `_entities` fetches
    requires: PlanSelection | None = None  # representation shape: key + @requires fields
    representation_typename: str | None = None  # fixed __typename (interface objects), else the object's own
    accepted_types: frozenset[str] = frozenset()  # runtime __typename values this fetch applies to
    key_fields: frozenset[str] = frozenset()  # representation fields that must be non-null to send it
    # the fetch's selection when some field is aliased in the subgraph query (see PlanField.sent_key)
    renames: PlanSelection | None = None
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Fetch",
            "serviceName": self.subgraph,
            "variableUsages": list(self.variable_usages),
            "operation": self.operation,
            "operationKind": self.operation_kind,
            "id": self.id,
        }
        if self.requires is not None:
            out["requires"] = [{"kind": "InlineFragment", "typeCondition": self.entity_type,
                                "selections": self.requires.to_dicts()}]
        if self.entity_type is not None:
            out["entityType"] = self.entity_type
        if self.representation_typename is not None:
            out["representationTypename"] = self.representation_typename
        if self.accepted_types:
            out["acceptedTypes"] = sorted(self.accepted_types)
        if self.key_fields:
            out["keyFields"] = sorted(self.key_fields)
        if self.renames is not None:
            out["outputRenames"] = self.renames.to_dicts()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fetch:
        requires = data.get("requires")
        renames = data.get("outputRenames")
        return cls(
            subgraph=data["serviceName"],
            operation=data["operation"],
            variable_usages=tuple(data.get("variableUsages") or ()),
            operation_kind=data.get("operationKind", "query"),
            entity_type=data.get("entityType"),
            requires=PlanSelection.from_dicts(requires[0]["selections"]) if requires else None,
            representation_typename=data.get("representationTypename"),
            accepted_types=frozenset(data.get("acceptedTypes") or ()),
            key_fields=frozenset(data.get("keyFields") or ()),
            renames=PlanSelection.from_dicts(renames) if renames is not None else None,
            id=data.get("id", 0),
        )


@dataclass(frozen=True)
class Flatten:
    path: tuple[str, ...]  # response keys; "@" walks into a list
    node: Fetch

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "Flatten", "path": list(self.path), "node": self.node.to_dict()}


@dataclass(frozen=True)
class Sequence:
    nodes: tuple[PlanNode, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "Sequence", "nodes": [n.to_dict() for n in self.nodes]}


@dataclass(frozen=True)
class Parallel:
    nodes: tuple[PlanNode, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "Parallel", "nodes": [n.to_dict() for n in self.nodes]}


@dataclass(frozen=True)
class Condition:
    variable: str
    if_clause: PlanNode | None = None
    else_clause: PlanNode | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "Condition",
            "condition": self.variable,
            "ifClause": self.if_clause.to_dict() if self.if_clause else None,
            "elseClause": self.else_clause.to_dict() if self.else_clause else None,
        }


@dataclass(frozen=True)
class SubscriptionNode:
    """A subscription's plan, as Apollo plans one: the primary fetch opens the subscription at the
    subgraph owning the root field; `rest` (entity fetches to other subgraphs) runs once per event
    with that event's data as the root data."""

    primary: Fetch
    rest: PlanNode | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "Subscription", "primary": self.primary.to_dict(),
                "rest": self.rest.to_dict() if self.rest is not None else None}


@dataclass(frozen=True)
class DeferredNode:
    """One deferred fragment's part of a `Defer`: its fetches start once what it depends on is there
    (the primary part, or the deferred part it is nested in), and never hold back the parts before it."""

    id: int  # the fragment's position among the operation's @defer fragments (gateway/document/defer.py)
    label: str | None
    path: tuple[str, ...]  # response keys to the objects it completes; "@" walks into a list
    node: PlanNode | None  # None: its fields come with the part it depends on (no key to fetch it apart)
    deferred: tuple[DeferredNode, ...] = ()  # fragments deferred inside this one: they follow it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "queryPath": list(self.path),
                               "node": self.node.to_dict() if self.node is not None else None}
        if self.label is not None:
            out["label"] = self.label
        if self.deferred:
            out["deferred"] = [d.to_dict() for d in self.deferred]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeferredNode:
        node = data.get("node")
        return cls(data["id"], data.get("label"), tuple(data["queryPath"]),
                   node_from_dict(node) if node else None,
                   tuple(cls.from_dict(d) for d in data.get("deferred") or ()))


@dataclass(frozen=True)
class Defer:
    """An operation with @defer: the primary part's fetches, then each deferred fragment's (Apollo's
    `Defer { Primary {…}, [Deferred(…) {…}] }`)."""

    primary: PlanNode | None
    deferred: tuple[DeferredNode, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "Defer", "primary": {"node": self.primary.to_dict() if self.primary else None},
                "deferred": [d.to_dict() for d in self.deferred]}


PlanNode = Union[Sequence, Parallel, Fetch, Flatten, Condition, Defer, SubscriptionNode]


def node_from_dict(data: dict[str, Any]) -> PlanNode:
    kind = data["kind"]
    if kind == "Fetch":
        return Fetch.from_dict(data)
    if kind == "Flatten":
        return Flatten(tuple(data["path"]), Fetch.from_dict(data["node"]))
    if kind == "Sequence":
        return Sequence(tuple(node_from_dict(n) for n in data["nodes"]))
    if kind == "Parallel":
        return Parallel(tuple(node_from_dict(n) for n in data["nodes"]))
    if kind == "Condition":
        if_clause, else_clause = data.get("ifClause"), data.get("elseClause")
        return Condition(data["condition"], node_from_dict(if_clause) if if_clause else None,
                         node_from_dict(else_clause) if else_clause else None)
    if kind == "Subscription":
        rest = data.get("rest")
        return SubscriptionNode(Fetch.from_dict(data["primary"]), node_from_dict(rest) if rest else None)
    if kind == "Defer":
        primary = (data.get("primary") or {}).get("node")
        return Defer(node_from_dict(primary) if primary else None,
                     tuple(DeferredNode.from_dict(d) for d in data.get("deferred") or ()))
    raise ValueError(f"unknown plan node kind {kind!r}")


@dataclass(frozen=True)
class QueryPlan:
    node: PlanNode | None
    operation_kind: str = "query"
    errors: tuple[str, ...] = ()  # set when no plan exists; the executor reports them

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "QueryPlan", "node": self.node.to_dict() if self.node else None,
                               "operationKind": self.operation_kind}
        if self.errors:
            out["errors"] = list(self.errors)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryPlan:
        node = data.get("node")
        return cls(node_from_dict(node) if node else None, data.get("operationKind", "query"),
                   tuple(data.get("errors") or ()))

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
            elif isinstance(n, SubscriptionNode):
                walk(n.primary)
                walk(n.rest)
            elif isinstance(n, Defer):
                walk(n.primary)
                stack = list(n.deferred)
                while stack:
                    d = stack.pop(0)
                    walk(d.node)
                    stack.extend(d.deferred)

        walk(self.node)
        return out
