"""The planner's search: decide, field by field, which subgraph resolves it and from where.

Walking the client's operation, a field stays in the current fetch when that subgraph resolves it
there (its own field, or an @external one a @provides on the path hands it). Otherwise the planner
jumps: it asks the current fetch for an entity key (planning the key fields like any other field,
so keys can themselves come from other subgraphs) and adds the field to an `_entities` fetch on a
subgraph that resolves it. @requires fields are planned the same way, before the fetch that needs
them, and travel in its representations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    print_ast,
    visit,
    Visitor,
)

from graphql.language import DirectiveNode, Node

from gateway.document import condition_terms
from gateway.planner.errors import Deadline, UnplannableError
from gateway.planner.fetch_selection import FetchSelection
from gateway.planner.groups import FetchGroup, GroupIndex
from gateway.supergraph.model import EntityKey, FieldPresence, Supergraph

_PASSED_DIRECTIVES = ("skip", "include")


@dataclass
class Loc:
    """Where planned fields go: a fetch group, the selection inside it, the type there, the response path."""

    group: FetchGroup
    sel: FetchSelection
    type_name: str
    path: tuple[str, ...]
    provided: SelectionSetNode | None = None
    in_fragment: bool = False
    parent: tuple[Loc, FieldNode] | None = None  # the object holding this one, and the field leading here
    # subgraphs that could equally be resolving this object (shareable paths); None = only `group`'s
    could_be: frozenset[str] | None = None
    # the client's response keys on this object (key -> field name), so key and @requires fields
    # the planner adds never take a key the client uses for another field
    client_keys: dict[str, str] | None = None
    # @skip/@include terms (variable, required value) the fields here are asked under; fetch groups
    # created from here are sent only when all hold
    conditions: frozenset[tuple[str, bool]] = frozenset()


class _VariableCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_args: Any) -> None:
        self.names.add(node.name.value)


def _variables_in(nodes: Iterable[Node] | None) -> set[str]:
    collector = _VariableCollector()
    for n in nodes or ():
        visit(n, collector)
    return collector.names


def _args_text(node: FieldNode) -> str:
    if not node.arguments:
        return ""
    return "(" + ", ".join(print_ast(a) for a in node.arguments) + ")"


def _directives_text(node: SelectionNode) -> str:
    return _text_of(_passed_directives(node))


def _passed_directives(node: SelectionNode) -> list[DirectiveNode]:
    return [d for d in node.directives or () if d.name.value in _PASSED_DIRECTIVES]


def _text_of(directives: Iterable[DirectiveNode]) -> str:
    text = " ".join(print_ast(d) for d in directives)
    return " " + text if text else ""


def _directive_layers(node: SelectionNode) -> list[tuple[str, frozenset[str]]]:
    """The passed directives of a selection as layers with each directive name once: (text, variables).

    A root field flattened out of a conditional fragment can carry two @skip/@include of one name, which
    no GraphQL location accepts: the first layer stays on the field, the others become inline fragments
    around it (they all must hold, as before)."""
    layers: list[list[DirectiveNode]] = []
    for directive in _passed_directives(node):
        for layer in layers:
            if all(d.name.value != directive.name.value for d in layer):
                layer.append(directive)
                break
        else:
            layers.append([directive])
    return [(_text_of(layer), frozenset(_variables_in(layer))) for layer in layers]


def _list_depth(gql_type: GraphQLOutputType) -> int:
    depth = 0
    while True:
        if isinstance(gql_type, GraphQLNonNull):
            gql_type = gql_type.of_type
        elif isinstance(gql_type, GraphQLList):
            depth += 1
            gql_type = gql_type.of_type
        else:
            return depth


def _internal_key(node: FieldNode) -> str:
    """Response key of a key/@requires field the client did not ask for; arguments make it unique."""
    if not node.arguments:
        return node.name.value
    digest = hashlib.sha1(_args_text(node).encode()).hexdigest()[:8]
    return f"_kyodo_{node.name.value}_{digest}"


class PlanBuilder:
    def __init__(self, supergraph: Supergraph, deadline: Deadline | None = None) -> None:
        self.sg = supergraph
        self.schema = supergraph.schema
        self.deadline = deadline or Deadline()
        self.index = GroupIndex()
        # jumps under way, by (subgraph, type, field, response path): the same jump again at the same path
        # is a cycle (a key that needs itself); at a deeper path it is a nested selection and is planned
        self._jump_stack: set[tuple[str, str, str, tuple[str, ...]]] = set()
        self._keys_at: dict[tuple[str, ...], dict[str, str]] = {}

    # -- entry ---------------------------------------------------------------------------------------
    def plan_root_fields(self, root_type: str, fields: list[FieldNode]) -> None:
        self._root_keys = {(f.alias.value if f.alias else f.name.value): f.name.value for f in fields}
        self._keys_at = self._client_keys_by_path(root_type, fields)
        for node in fields:
            name = node.name.value
            if name in ("__typename", "__schema", "__type"):
                continue  # answered by the gateway
            owner = self.sg.types[root_type].fields.get(name)
            if owner is None:
                continue
            candidates = owner.resolvers() or list(owner.presences)
            if not candidates:
                continue
            terms = condition_terms(node)
            graph = min(candidates, key=lambda g: (
                self._cost(g, root_type, node, 0),
                0 if self.index.used(g, (), None, "root") else 1,  # a subgraph already called saves a fetch
                self.sg.graph_order.index(g)))
            group = self.index.get_or_create(graph, (), None, "root", set(), conditions=terms)
            shared = frozenset(candidates) if len(candidates) > 1 else None
            self.plan_field(Loc(group, group.selection, root_type, (), could_be=shared,
                                client_keys=self._root_keys, conditions=terms), node, None)

    # -- selections ----------------------------------------------------------------------------------
    def plan_selections(self, loc: Loc, selections: Iterable[SelectionNode], rep: FetchSelection | None) -> set[int]:
        used: set[int] = set()
        outer = loc
        for s in selections:
            loc = outer
            if rep is None and s.directives:
                terms = condition_terms(s)  # (literal ones were applied when the operation was prepared)
                if not terms <= loc.conditions:
                    loc = replace(loc, conditions=loc.conditions | terms)
            if isinstance(s, FieldNode):
                used |= self.plan_field(loc, s, rep)
            elif isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else None
                used |= self.plan_fragment(loc, cond, s, s.selection_set, rep)
            # (no fragment spreads: the prepared operation's selection has them inlined)
        return used

    def plan_fragment(self, loc: Loc, cond: str | None, node: SelectionNode, selection_set: SelectionSetNode,
                      rep: FetchSelection | None) -> set[int]:
        passed = _passed_directives(node)
        directives = _text_of(passed)
        directive_vars = frozenset(_variables_in(passed))
        t = loc.type_name
        s = loc.group.subgraph
        if not self.sg.is_abstract(t) and cond is not None and cond != t and t not in self.sg.possible_types(cond):
            return set()  # can never apply: the subgraph returns only `t` here
        if cond is None or cond == t or not self.sg.is_abstract(t):
            # the fragment always applies here: keep its fields in place
            if not directives:
                return self.plan_selections(loc, selection_set.selections, rep)
            sub = loc.sel.fragment(self._valid_condition(t, s), directives, variables=directive_vars)
            return self.plan_selections(Loc(loc.group, sub, t, loc.path, loc.provided, loc.in_fragment, loc.parent, loc.could_be, loc.client_keys,
                                   conditions=loc.conditions),
                                        selection_set.selections, rep)
        # t is abstract and the fragment narrows it
        if self.sg.is_interface_object_in(t, s):
            return self.jump_to_real_abstract(loc, [node], selection_set, cond, rep)
        used: set[int] = set()
        known = set(self.sg.possible_types_in(t, s))
        if loc.could_be and self.sg.types[t].kind == "union":
            # Below shareable fields only the union members every candidate subgraph knows are safe
            # to select (what Apollo and Hive routers do).
            for other in loc.could_be:
                known &= set(self.sg.possible_types_in(t, other))
        for concrete in self.sg.possible_types(cond):
            if concrete not in known:
                continue  # this subgraph never returns that type here
            sub = loc.sel.fragment(concrete, directives, variables=directive_vars)
            sub_rep = rep.fragment(concrete) if rep is not None else None
            used |= self.plan_selections(Loc(loc.group, sub, concrete, loc.path, loc.provided, True, loc.parent, loc.could_be, loc.client_keys,
                                   conditions=loc.conditions),
                                         selection_set.selections, sub_rep)
        return used

    def _fields_of(self, type_name: str) -> dict[str, GraphQLField]:
        """The API fields of an object or interface type (none for other types)."""
        found = self.schema.get_type(type_name)
        if isinstance(found, (GraphQLObjectType, GraphQLInterfaceType)):
            fields: dict[str, GraphQLField] = found.fields
            return fields
        return {}

    def _valid_condition(self, type_name: str, graph: str) -> str | None:
        return type_name if self.sg.type_known_in(type_name, graph) else None

    # -- one field -----------------------------------------------------------------------------------
    def plan_field(self, loc: Loc, node: FieldNode, rep: FetchSelection | None, chosen: bool = False) -> set[int]:
        """Plan one field at `loc`. `chosen`: the jump already picked this fetch as the field's resolver."""
        self.deadline.check("the search")
        t = loc.type_name
        s = loc.group.subgraph
        name = node.name.value
        if chosen:
            return self._add_local(loc, node, rep)
        if rep is not None and loc.sel is loc.group.selection and loc.group.requires is not None \
                and node.selection_set is None and not node.arguments:
            # (found by field name: it may sit under an internal key when the client uses its name)
            known = next((f for f in loc.group.requires.fields.values() if f.name == name and f.sub is None), None)
            if known is not None:
                # already in this entity's representation: it sits in the merged object before this fetch runs
                rep.add_field(known.response_key, name)
                return set(loc.group.deps)
        if name == "__typename":
            if self.sg.is_abstract(t):
                if self.sg.is_interface_object_in(t, s):
                    return self.jump_to_real_abstract(loc, [], None, None, rep)
                loc.sel.add_field("__typename", "__typename")
            if rep is not None:
                rep.add_field("__typename", "__typename")
            return {loc.group.id}
        if self.sg.is_abstract(t) and not self.sg.is_interface_object_in(t, s):
            if self._local_on_abstract(s, t, name, loc.provided):
                return self._add_local(loc, node, rep)
            concrete_types = self.sg.possible_types_in(t, s)
            if not concrete_types:
                return self.jump(loc, node, rep)
            for concrete in concrete_types:
                presence = self.sg.field_presence(concrete, name, s)
                if presence is not None and presence.external and self._provided(loc.provided, concrete, name) is None:
                    # The subgraph declares the interface field but cannot return it for this type: fetch
                    # the parent field again from a subgraph that can (as the routers do), or fail.
                    rerouted = self._reroute_via_parent(loc, node, rep)
                    if rerouted:
                        return rerouted
                    raise UnplannableError(f"Cannot plan {t}.{name}: subgraph {self.sg.subgraphs[s].name} "
                                           f"declares it external on {concrete}")
            used: set[int] = set()
            for concrete in concrete_types:
                if name not in self._fields_of(concrete):
                    continue
                sub = loc.sel.fragment(concrete)
                sub_rep = rep.fragment(concrete) if rep is not None else None
                used |= self.plan_field(Loc(loc.group, sub, concrete, loc.path, loc.provided, True, loc.parent, loc.could_be, loc.client_keys,
                                   conditions=loc.conditions), node, sub_rep)
            return used
        if self._is_local(s, t, name, loc.provided, for_key=rep is not None) is not None:
            return self._add_local(loc, node, rep)
        return self.jump(loc, node, rep)

    def _client_keys_by_path(self, root_type: str, fields: Iterable[SelectionNode]) -> dict[tuple[str, ...], dict[str, str]]:
        """The client's response keys (key -> field name) at every response path of the operation.

        A key or @requires field is often planned on an object before the client's own fields there
        (a @requires on an earlier sibling reaches into it); this tells it which keys to stay off."""
        out: dict[tuple[str, ...], dict[str, str]] = {}

        def walk(type_name: str, path: tuple[str, ...], selections: Iterable[SelectionNode]) -> None:
            keys = out.setdefault(path, {})
            for s in selections:
                if isinstance(s, FieldNode):
                    key = s.alias.value if s.alias else s.name.value
                    keys.setdefault(key, s.name.value)
                    field_def = self._fields_of(type_name).get(s.name.value)
                    if s.selection_set is not None and field_def is not None:
                        walk(get_named_type(field_def.type).name,
                             path + (key,) + ("@",) * _list_depth(field_def.type), s.selection_set.selections)
                elif isinstance(s, InlineFragmentNode):
                    cond = s.type_condition.name.value if s.type_condition else type_name
                    walk(cond, path, s.selection_set.selections)

        walk(root_type, (), fields)
        return out

    def _client_keys(self, selection_set: SelectionSetNode, out: dict[str, str] | None = None) -> dict[str, str]:
        out = {} if out is None else out
        for s in selection_set.selections:
            if isinstance(s, FieldNode):
                out.setdefault(s.alias.value if s.alias else s.name.value, s.name.value)
            elif isinstance(s, InlineFragmentNode):
                self._client_keys(s.selection_set, out)
        return out

    def _could_be_after(self, loc: Loc, field_name: str) -> frozenset[str] | None:
        """Which subgraphs could resolve the value of `field_name` at `loc` (see Loc.could_be)."""
        owner = self.sg.types.get(loc.type_name)
        fo = owner.fields.get(field_name) if owner is not None else None
        if fo is None:
            return None
        current = loc.group.subgraph
        before = loc.could_be or frozenset({current})
        out = {current}
        for g in fo.resolvers():
            if g in before or (owner is not None and owner.resolvable_keys_in(g)):
                out.add(g)
        return frozenset(out) if len(out) > 1 else None

    def _provided(self, provided: SelectionSetNode | None, type_name: str, field_name: str) -> SelectionSetNode | None:
        """The @provides sub-selection for `field_name` at this point, or None if not provided."""
        if provided is None:
            return None
        for s in provided.selections:
            if isinstance(s, FieldNode) and s.name.value == field_name:
                return s.selection_set or SelectionSetNode(selections=())
            if isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else None
                if cond is None or cond == type_name or type_name in self.sg.possible_types(cond):
                    found = self._provided(s.selection_set, type_name, field_name)
                    if found is not None:
                        return found
        return None

    def _is_local(self, graph: str, type_name: str, field_name: str, provided: SelectionSetNode | None,
                  for_key: bool = False) -> bool | None:
        """A truthy marker if `graph` resolves the field at this point; None otherwise."""
        presence = self.sg.field_presence(type_name, field_name, graph)
        if self._provided(provided, type_name, field_name) is not None:
            return True
        if presence is None:
            return None
        if presence.external:
            return None
        if presence.used_overridden and not for_key:
            return None
        if presence.requires is not None:
            return None
        return True

    def _local_on_abstract(self, graph: str, type_name: str, field_name: str,
                           provided: SelectionSetNode | None) -> bool:
        if self._is_local(graph, type_name, field_name, provided) is None:
            return False
        for concrete in self.sg.possible_types_in(type_name, graph):
            if self._is_local(graph, concrete, field_name, provided) is None:
                return False
            presence = self.sg.field_presence(concrete, field_name, graph)
            if presence is not None and presence.type_in_graph:
                return False
        return True

    def _add_local(self, loc: Loc, node: FieldNode, rep: FetchSelection | None) -> set[int]:
        t = loc.type_name
        s = loc.group.subgraph
        name = node.name.value
        gql_parent = self.schema.get_type(t)
        field_def = gql_parent.fields[name]  # type: ignore[union-attr]
        args = _args_text(node)
        variables = frozenset(_variables_in(node.arguments))
        home = loc.sel
        if rep is not None:
            key = _internal_key(node)
            client_keys = loc.client_keys if loc.client_keys is not None else self._keys_at.get(loc.path)
            if client_keys is not None and client_keys.get(key, name) != name:
                key = f"_kyodo_{name}"  # the client uses this key for another field
            directives = ""
        else:
            key = node.alias.value if node.alias else name
            layers = _directive_layers(node)
            directives = ""
            if layers:
                directives, directive_vars = layers[0]
                variables |= directive_vars
                for text, layer_vars in layers[1:]:
                    home = home.fragment(self._valid_condition(t, s), text, variables=layer_vars)
        has_sub = node.selection_set is not None
        target_sel = home
        added = target_sel.add_field(key, name, args, directives, has_sub, variables)
        slot = 1
        while added is None:
            # same key, different directives (or a key/@requires field in the way): a separate fragment
            target_sel = home.fragment(self._valid_condition(t, s), "", slot)
            added = target_sel.add_field(key, name, args, directives, has_sub, variables)
            slot += 1
        presence = self.sg.field_presence(t, name, s)
        if presence is not None and presence.type_in_graph and loc.in_fragment:
            added.sent_key = f"{key}__kyodo_{t}"
        sub_rep = None
        if rep is not None:
            rep_field = rep.add_field(key, name, "", "", has_sub)
            sub_rep = rep_field.sub if rep_field is not None else None
        used = {loc.group.id}
        if node.selection_set is not None and added.sub is not None:
            child_type = get_named_type(field_def.type).name
            path = loc.path + (key,) + ("@",) * _list_depth(field_def.type)
            provided = presence.provides if presence is not None and presence.provides is not None else \
                self._provided(loc.provided, t, name)
            view_type = child_type
            if presence is not None and presence.type_in_graph:
                # the subgraph declares a narrower type here (e.g. an object where the supergraph has a union)
                narrowed = presence.type_in_graph.strip("[]! ")
                if narrowed in self.sg.types and not self.sg.is_abstract(narrowed):
                    view_type = narrowed
            child = Loc(loc.group, added.sub, view_type, path, provided, parent=(loc, node),
                        could_be=self._could_be_after(loc, name), conditions=loc.conditions,
                        client_keys=self._client_keys(node.selection_set) if rep is None else None)
            if self.sg.is_abstract(child_type) and not self.sg.is_interface_object_in(child_type, s):
                added.sub.add_field("__typename", "__typename")
                if sub_rep is not None:
                    sub_rep.add_field("__typename", "__typename")
            used |= self.plan_selections(child, node.selection_set.selections, sub_rep)
        return used

    # -- jumps ---------------------------------------------------------------------------------------
    def _candidates(self, type_name: str, field_name: str,
                    current: str) -> list[tuple[str, str, list[EntityKey], str | None]]:
        """(graph, entity type, keys, representation __typename) that could resolve the field."""
        out: list[tuple[str, str, list[EntityKey], str | None]] = []
        owner = self.sg.types.get(type_name)
        if owner is None:
            return out
        fo = owner.fields.get(field_name)
        if fo is not None:
            for g in fo.resolvers():
                if g == current and fo.presences[g].requires is None:
                    continue  # (a field with @requires in this very subgraph needs its own entity fetch)
                keys = owner.resolvable_keys_in(g)
                if keys:
                    rtn = type_name if g in owner.interface_object_graphs else None
                    out.append((g, type_name, keys, rtn))
        if owner.kind == "object":
            gql = self.schema.get_type(type_name)
            for iface in getattr(gql, "interfaces", ()):
                io = self.sg.types.get(iface.name)
                if io is None:
                    continue
                for g in io.interface_object_graphs:
                    if g == current or not self.sg.resolves(iface.name, field_name, g):
                        continue
                    keys = io.resolvable_keys_in(g)
                    if keys:
                        out.append((g, iface.name, keys, iface.name))
        return out

    def jump(self, loc: Loc, node: FieldNode, rep: FetchSelection | None) -> set[int]:
        t = loc.type_name
        s = loc.group.subgraph
        name = node.name.value
        guard = (s, t, name, loc.path)
        if guard in self._jump_stack:
            return set()
        options: list[tuple[tuple[int, int, int, int, int], int, str, str, EntityKey, str | None, FieldPresence | None]] = []
        for graph, entity_type, keys, rtn in self._candidates(t, name, s):
            presence = self.sg.field_presence(entity_type, name, graph)
            needs_requires = presence is not None and presence.requires is not None
            for key in keys:
                key_local = self._key_is_local(s, t, key.selection, loc.provided)
                reuse = self.index.used(graph, loc.path, entity_type, "")
                score = (0 if key_local else 1, 1 if needs_requires else 0, 0 if reuse else 1,
                         self._cost(graph, entity_type, node, 0), self.sg.graph_order.index(graph))
                options.append((score, len(options), graph, entity_type, key, rtn, presence))
        options.sort(key=lambda o: (o[0], o[1]))
        if rep is None and options and all(o[0][0] == 1 for o in options):
            # No way in has its key here: getting the key would fetch the parent field again elsewhere,
            # and then jump once more. Fetch the parent field where this field is read instead (one fetch).
            rerouted = self._reroute_via_parent(loc, node, rep)
            if rerouted:
                return rerouted
        self._jump_stack.add(guard)
        try:
            for _score, _n, graph, entity_type, key, rtn, presence in options:
                target, deps = self._entity_group(loc, graph, entity_type, key, rtn,
                                                  presence.requires if presence is not None else None)
                if target is None:
                    continue  # this key cannot be obtained from here; try the next way
                child = Loc(target, target.selection, entity_type, loc.path, parent=loc.parent,
                            client_keys=loc.client_keys, conditions=loc.conditions)
                return deps | self.plan_field(child, node, rep, chosen=True)
        finally:
            self._jump_stack.discard(guard)
        used = self._reroute_via_parent(loc, node, rep)
        if not used and rep is None and not self._jump_stack:
            raise UnplannableError(f"Cannot plan {t}.{name}: no subgraph can resolve it from "
                                   f"{self.sg.subgraphs[s].name}")
        return used

    def _reroute_via_parent(self, loc: Loc, node: FieldNode, rep: FetchSelection | None) -> set[int]:
        """No entity jump reaches the field (its type has no key there): fetch the parent field again
        from a subgraph that resolves both, through the parent's own key or as a shared root field."""
        if loc.parent is None or (rep is not None and (node.selection_set is not None or node.arguments)):
            return set()
        parent_loc, parent_node = loc.parent
        guard = (parent_loc.group.subgraph, parent_loc.type_name, "^" + parent_node.name.value, parent_loc.path)
        if guard in self._jump_stack:
            return set()
        declared = get_named_type(self._fields_of(parent_loc.type_name)[parent_node.name.value].type).name
        inner: SelectionNode = node
        if declared != loc.type_name:
            inner = InlineFragmentNode(type_condition=NamedTypeNode(name=NameNode(value=loc.type_name)),
                                       directives=(), selection_set=SelectionSetNode(selections=(node,)))
        synthetic = FieldNode(alias=parent_node.alias, name=parent_node.name, arguments=parent_node.arguments,
                              directives=parent_node.directives, selection_set=SelectionSetNode(selections=(inner,)))
        self._jump_stack.add(guard)
        try:
            if parent_loc.group.entity_type is None and parent_loc.path == ():
                owner = self.sg.types[parent_loc.type_name].fields[parent_node.name.value]
                for g in owner.resolvers():
                    if g == parent_loc.group.subgraph or self._is_local(g, loc.type_name, node.name.value, None) is None:
                        continue
                    group = self.index.get_or_create(g, (), None, "root", set(), conditions=loc.conditions)
                    used = self.plan_field(Loc(group, group.selection, parent_loc.type_name, (),
                                               conditions=loc.conditions), synthetic, None)
                    break
                else:
                    return set()
            else:
                used = self.jump(replace(parent_loc, conditions=loc.conditions), synthetic, None)
            if used and rep is not None:
                rep.add_field(node.name.value, node.name.value)  # a key field, now fetched beside its object
            return used
        finally:
            self._jump_stack.discard(guard)

    def jump_to_real_abstract(self, loc: Loc, nodes: list[SelectionNode], selection_set: SelectionSetNode | None,
                              cond: str | None, rep: FetchSelection | None) -> set[int]:
        """The current subgraph sees an interface as an object (@interfaceObject): ask a subgraph that
        knows the concrete types for __typename and for fragments on them."""
        t = loc.type_name
        s = loc.group.subgraph
        owner = self.sg.types[t]
        guard = (s, t, "__typename", loc.path)
        if guard in self._jump_stack:
            return set()
        options = [g for g in self.sg.graph_order
                   if g != s and g in owner.graphs and g not in owner.interface_object_graphs
                   and owner.resolvable_keys_in(g) and self.sg.possible_types_in(t, g)]
        if not options:
            if rep is None and not self._jump_stack:
                raise UnplannableError(f"Cannot plan the concrete type of {t}: no subgraph that "
                                       f"{self.sg.subgraphs[s].name} can reach knows its implementations")
            return set()
        graph = options[0]
        key = owner.resolvable_keys_in(graph)[0]
        self._jump_stack.add(guard)
        try:
            target, deps = self._entity_group(loc, graph, t, key, None, None)
            if target is None:
                return set()
            target.selection.add_field("__typename", "__typename")
            if rep is not None:
                rep.add_field("__typename", "__typename")
            child = Loc(target, target.selection, t, loc.path, parent=loc.parent, client_keys=loc.client_keys,
                        conditions=loc.conditions)
            used = deps | {target.id}
            for n in nodes:
                used |= self.plan_selections(child, [n], rep)
            return used
        finally:
            self._jump_stack.discard(guard)

    def _entity_group(self, loc: Loc, graph: str, entity_type: str, key: EntityKey, rtn: str | None,
                      requires: SelectionSetNode | None) -> tuple[FetchGroup | None, set[int]]:
        representation = FetchSelection()
        representation.add_field("__typename", "__typename")
        loc.sel.add_field("__typename", "__typename")  # every representation carries it
        deps = self.plan_selections(loc, key.selection.selections, representation)
        if not _covers(representation, key.selection):
            return None, set()
        key_fields = set(_top_fields(key.selection))
        if requires is not None:
            deps |= self.plan_selections(loc, requires.selections, representation)
        deps.add(loc.group.id)
        target = self.index.get_or_create(graph, loc.path, entity_type, "", deps, representation, loc.conditions)
        if target.requires is None:
            target.requires = representation
        else:
            target.requires.merge_from(representation)
        target.key_fields |= key_fields
        target.representation_typename = rtn
        target.accepted_types = frozenset({entity_type, *self.sg.possible_types(entity_type)})
        return target, deps | {target.id}

    def _key_is_local(self, graph: str, type_name: str, selection: SelectionSetNode,
                      provided: SelectionSetNode | None) -> bool:
        for s in selection.selections:
            if not isinstance(s, FieldNode):
                return False
            if self._is_local(graph, type_name, s.name.value, provided, for_key=True) is None:
                return False
            if s.selection_set is not None:
                field_def = self._fields_of(type_name).get(s.name.value)
                if field_def is None:
                    return False
                child = get_named_type(field_def.type).name
                presence = self.sg.field_presence(type_name, s.name.value, graph)
                sub_provided = presence.provides if presence is not None and presence.provides else \
                    self._provided(provided, type_name, s.name.value)
                if not self._key_is_local(graph, child, s.selection_set, sub_provided):
                    return False
        return True

    def _cost(self, graph: str, type_name: str, node: FieldNode, depth: int,
              provided: SelectionSetNode | None = None) -> int:
        """How many fields under `node` the subgraph cannot resolve itself (a rough fetch count)."""
        name = node.name.value
        if depth > 6 or name.startswith("__"):
            return 0
        if self.sg.is_abstract(type_name) and not self.sg.is_interface_object_in(type_name, graph):
            if not self._local_on_abstract(graph, type_name, name, provided):
                for concrete in self.sg.possible_types_in(type_name, graph):
                    presence = self.sg.field_presence(concrete, name, graph)
                    if presence is not None and presence.external and self._provided(provided, concrete, name) is None:
                        return 100  # planning through here fails (see UnplannableError)
                concrete_types = self.sg.possible_types_in(type_name, graph)
                if not concrete_types:
                    return 1
                return max(self._cost(graph, c, node, depth, provided) for c in concrete_types)
        elif self._is_local(graph, type_name, name, provided) is None:
            return 1
        if node.selection_set is None:
            return 0
        field_def = self._fields_of(type_name).get(name)
        if field_def is None:
            return 0
        presence = self.sg.field_presence(type_name, name, graph)
        child_provided = presence.provides if presence is not None and presence.provides is not None else \
            self._provided(provided, type_name, name)
        return self._selection_cost(graph, get_named_type(field_def.type).name, node.selection_set, depth + 1,
                                    child_provided)

    def _selection_cost(self, graph: str, type_name: str, selection_set: SelectionSetNode, depth: int,
                        provided: SelectionSetNode | None = None) -> int:
        total = 0
        for s in selection_set.selections:
            if isinstance(s, FieldNode):
                total += self._cost(graph, type_name, s, depth, provided)
                continue
            if not isinstance(s, InlineFragmentNode):
                continue
            cond = s.type_condition.name.value if s.type_condition else type_name
            inner = s.selection_set
            if cond != type_name and not self.sg.is_abstract(cond) and self.sg.is_abstract(type_name) \
                    and cond not in self.sg.possible_types_in(type_name, graph):
                total += len(inner.selections)  # this subgraph never returns that type here
                continue
            total += self._selection_cost(graph, cond if not self.sg.is_abstract(cond) else type_name, inner, depth,
                                          provided)
        return total


def _top_fields(selection: SelectionSetNode) -> list[str]:
    return [s.name.value for s in selection.selections if isinstance(s, FieldNode)]


def _covers(representation: FetchSelection, key: SelectionSetNode) -> bool:
    present = {f.name for f in representation.fields.values()}
    return all(name in present for name in _top_fields(key))
