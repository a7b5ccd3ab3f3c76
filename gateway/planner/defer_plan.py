"""Planning an operation with @defer: the primary part without the deferred fragments, then each
deferred fragment with fetches of its own (a `Defer` node).

Each deferred fragment is planned one of three ways, chosen here:
- at the root: its fields are root fields of a fetch of their own, sent beside the primary ones;
- on an entity (a type with a resolvable key in some subgraph): the part it depends on fetches the
  key (under keys of kyodo's own, `_kyodo_defer_<field>`, so no client key is taken), and the deferred
  fields start with an `_entities` fetch on the subgraph that resolves most of them, from there on
  planned like any other entity jump;
- otherwise (no key to come back with): its fields are fetched with the part it depends on and only
  delivered apart (what the routers do for such fragments).
"""

from __future__ import annotations

from collections.abc import Callable

from graphql import (
    FieldNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    SelectionNode,
    SelectionSetNode,
)

from gateway.document import DeferredFragment, DeferSplit, root_fields_of
from gateway.planner.assemble import assemble
from gateway.planner.builder import Loc, PlanBuilder
from gateway.planner.errors import Deadline
from gateway.planner.fetch_selection import FetchSelection
from gateway.planner.nodes import Defer, DeferredNode, PlanNode
from gateway.supergraph.model import EntityKey, Supergraph

HIDDEN_KEY_PREFIX = "_kyodo_defer_"

Anchor = tuple[str, str, EntityKey]  # (subgraph, entity type, key)


def plan_deferred(supergraph: Supergraph, root_type: str, selection: SelectionSetNode, split: DeferSplit,
                  variable_definitions: dict[str, str], deadline: Deadline,
                  plan_root: Callable[[list[FieldNode]], PlanNode | None]) -> Defer:
    """The Defer node of a query whose normalized selection is `selection`; `plan_root` plans root fields."""
    anchors: dict[int, Anchor | None] = {f.id: _anchor(supergraph, f, deadline) for f in split.all}

    def rewrite(selection_set: SelectionSetNode) -> SelectionSetNode:
        kept: list[SelectionNode] = []
        for s in selection_set.selections:
            fragment = split.by_node.get(id(s)) if isinstance(s, InlineFragmentNode) else None
            if fragment is not None:
                replacement = _in_parent(fragment, anchors[fragment.id], rewrite)
                if replacement is not None:
                    kept.append(replacement)
                continue
            if isinstance(s, FieldNode) and s.selection_set is not None:
                s = FieldNode(alias=s.alias, name=s.name, arguments=s.arguments, directives=s.directives,
                              selection_set=rewrite(s.selection_set))
            elif isinstance(s, InlineFragmentNode):
                s = InlineFragmentNode(type_condition=s.type_condition, directives=s.directives,
                                       selection_set=rewrite(s.selection_set))
            kept.append(s)
        return SelectionSetNode(selections=tuple(kept))

    def deferred(fragment: DeferredFragment) -> DeferredNode:
        node: PlanNode | None = None
        inner = rewrite(fragment.node.selection_set)
        anchor = anchors[fragment.id]
        if not fragment.path:
            node = plan_root(list(root_fields_of(inner)))
        elif anchor is not None:
            node = _plan_on_entity(supergraph, fragment, anchor, inner, variable_definitions, deadline)
        return DeferredNode(fragment.id, fragment.label, fragment.path, node,
                            tuple(deferred(c) for c in fragment.children))

    primary = plan_root(list(root_fields_of(rewrite(selection))))
    return Defer(primary, tuple(deferred(f) for f in split.fragments))


def _anchor(supergraph: Supergraph, fragment: DeferredFragment, deadline: Deadline) -> Anchor | None:
    """Where a deferred fragment below the root starts its own fetches: the subgraph (resolving most of
    its fields itself), the entity type and its key; None when no key leads back to its object."""
    if not fragment.path:
        return None
    type_name = fragment.type_condition or fragment.parent_type
    owner = supergraph.types.get(type_name)
    if owner is None or owner.kind != "object":
        return None
    builder = PlanBuilder(supergraph, deadline)
    options: list[tuple[int, int, int, str, EntityKey]] = []
    for graph in supergraph.graph_order:
        if graph in owner.interface_object_graphs:
            continue
        keys = owner.resolvable_keys_in(graph)
        if not keys or any(not isinstance(s, FieldNode) for s in keys[0].selection.selections):
            continue
        remote = sum(1 for name in _top_field_names(fragment.node.selection_set)
                     if builder._is_local(graph, type_name, name, None) is None)
        cost = builder._selection_cost(graph, type_name, fragment.node.selection_set, 0)
        options.append((remote, cost, supergraph.graph_order.index(graph), graph, keys[0]))
    if not options:
        return None
    *_rank, graph, key = min(options, key=lambda o: (o[0], o[1], o[2]))
    return graph, type_name, key


def _top_field_names(selection_set: SelectionSetNode) -> list[str]:
    names: list[str] = []
    for s in selection_set.selections:
        if isinstance(s, FieldNode):
            if not s.name.value.startswith("__"):
                names.append(s.name.value)
        elif isinstance(s, InlineFragmentNode):
            names.extend(_top_field_names(s.selection_set))
    return names


def _hidden_key(field: FieldNode) -> str:
    return HIDDEN_KEY_PREFIX + field.name.value


def _in_parent(fragment: DeferredFragment, anchor: Anchor | None,
               rewrite: Callable[[SelectionSetNode], SelectionSetNode]) -> SelectionNode | None:
    """What stands for a deferred fragment in the part it depends on."""
    if not fragment.path:
        return None  # a root fetch of its own needs nothing from the primary part
    if anchor is None:
        # no key to come back with: fetched here, delivered apart (nested @defer still planned)
        return InlineFragmentNode(type_condition=fragment.node.type_condition, directives=(),
                                  selection_set=rewrite(fragment.node.selection_set))
    _graph, type_name, key = anchor
    fields: list[SelectionNode] = [FieldNode(name=NameNode(value="__typename"))]
    for s in key.selection.selections:
        assert isinstance(s, FieldNode)
        fields.append(FieldNode(alias=NameNode(value=_hidden_key(s)), name=s.name, selection_set=s.selection_set))
    return InlineFragmentNode(type_condition=NamedTypeNode(name=NameNode(value=type_name)), directives=(),
                              selection_set=SelectionSetNode(selections=tuple(fields)))


def _copy_plain(selection_set: SelectionSetNode, into: FetchSelection) -> None:
    for s in selection_set.selections:
        if isinstance(s, FieldNode):
            added = into.add_field(s.name.value, s.name.value, with_sub=s.selection_set is not None)
            if added is not None and added.sub is not None and s.selection_set is not None:
                _copy_plain(s.selection_set, added.sub)


def _plan_on_entity(supergraph: Supergraph, fragment: DeferredFragment, anchor: Anchor,
                    selection: SelectionSetNode, variable_definitions: dict[str, str],
                    deadline: Deadline) -> PlanNode | None:
    """The deferred fields from an `_entities` fetch on the anchor's subgraph, with the key the part
    before fetched (see `_in_parent`), then whatever jumps they need."""
    graph, type_name, key = anchor
    builder = PlanBuilder(supergraph, deadline)
    representation = FetchSelection()
    representation.add_field("__typename", "__typename")
    key_fields: set[str] = set()
    for s in key.selection.selections:
        assert isinstance(s, FieldNode)
        added = representation.add_field(_hidden_key(s), s.name.value, with_sub=s.selection_set is not None)
        if added is not None and added.sub is not None and s.selection_set is not None:
            _copy_plain(s.selection_set, added.sub)
        key_fields.add(s.name.value)
    path = fragment.path
    group = builder.index.get_or_create(graph, path, type_name, "", set(), representation)
    group.requires = representation
    group.key_fields |= key_fields
    group.accepted_types = frozenset({type_name, *supergraph.possible_types(type_name)})
    relative = builder._client_keys_by_path(type_name, selection.selections)
    builder._keys_at = {path + p: keys for p, keys in relative.items()}
    loc = Loc(group, group.selection, type_name, path, client_keys=builder._client_keys(selection))
    builder.plan_selections(loc, selection.selections, None)
    # (an anchor fetch left with nothing to select is dropped by refinement; the jumps read the key
    # from the part before; no fetch at all: the fields are answered from what is there)
    return assemble(builder.index.groups, "query", variable_definitions, deadline)
