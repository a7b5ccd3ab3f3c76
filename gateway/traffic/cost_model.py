"""`@cost` and `@listSize` as a supergraph declares them, read once per supergraph.

`kyodo compose` carries both directives from the subgraphs into the supergraph and links them with
`@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])` as Apollo's composition does;
a link may rename them (`as:` renames the spec, an import `{name: "@listSize", as: "@size"}` the other),
so the local names are resolved from the schema's `@link`s, never assumed.

`CostModel.of(supergraph)` is cached on the supergraph object's identity (a reload builds a new one).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from graphql import (
    DirectiveNode,
    GraphQLList,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    value_from_ast_untyped,
)

from gateway.supergraph import Supergraph

COST_SPEC = "cost"
_MISSING = object()


@dataclass(frozen=True)
class ListSize:
    """One `@listSize` on a field definition."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()
    require_one_slicing_argument: bool = True


@dataclass
class CostModel:
    """Weights (`@cost`) per type, field and argument, and `@listSize` per field."""

    type_weights: dict[str, int] = field(default_factory=dict)                   # "Resident" -> 5
    field_weights: dict[tuple[str, str], int] = field(default_factory=dict)      # ("Shelter", "occupancy") -> 3
    argument_weights: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (type, field, arg)
    input_field_weights: dict[tuple[str, str], int] = field(default_factory=dict)     # (input type, field)
    list_sizes: dict[tuple[str, str], ListSize] = field(default_factory=dict)
    _facts: dict[tuple[str, str], tuple | None] = field(default_factory=dict, repr=False)

    def field_facts(self, parent, name: str) -> tuple | None:
        """(definition, named type, weight, is a list, @listSize or None) of `parent.name`, memoised:
        the cost walk asks this for every field of every request."""
        key = (parent.name, name)
        facts = self._facts.get(key, _MISSING)
        if facts is _MISSING:
            definition = parent.fields.get(name)
            if definition is None:
                facts = None
            else:
                named = get_named_type(definition.type)
                weight = self.field_weights.get(key)
                if weight is None:
                    weight = self.type_weights.get(named.name, 1 if is_composite_type(named) else 0)
                facts = (definition, named, weight, isinstance(get_nullable_type(definition.type), GraphQLList),
                         self.list_sizes.get(key))
            self._facts[key] = facts
        return facts

    @classmethod
    def of(cls, supergraph: Supergraph) -> CostModel:
        cached = _MODELS.get(id(supergraph))
        if cached is not None and cached[0]() is supergraph:
            return cached[1]
        model = cls.from_schema(supergraph.schema)
        # keyed by identity (Supergraph is an unhashable dataclass); the weak reference drops the entry
        # when a reload replaces the supergraph
        key = id(supergraph)
        _MODELS[key] = (weakref.ref(supergraph, lambda _ref: _MODELS.pop(key, None)), model)
        return model

    @classmethod
    def from_schema(cls, schema: GraphQLSchema) -> CostModel:
        cost_name, list_size_name = cost_directive_names(schema)
        model = cls()
        for type_name, named in schema.type_map.items():
            if type_name.startswith("__"):
                continue
            for node in _nodes(named):
                weight = _weight(node.directives, cost_name)
                if weight is not None:
                    model.type_weights[type_name] = weight
            fields = getattr(named, "fields", None)
            if not isinstance(fields, dict):
                continue
            is_input = hasattr(named, "is_one_of")  # GraphQLInputObjectType
            for field_name, definition in fields.items():
                node = definition.ast_node
                if node is None:
                    continue
                weight = _weight(node.directives, cost_name)
                if weight is not None:
                    if is_input:
                        model.input_field_weights[(type_name, field_name)] = weight
                    else:
                        model.field_weights[(type_name, field_name)] = weight
                if is_input:
                    continue
                for directive in node.directives or ():
                    if directive.name.value == list_size_name:
                        model.list_sizes[(type_name, field_name)] = _list_size(directive)
                for arg_name, arg in definition.args.items():
                    if arg.ast_node is not None:
                        arg_weight = _weight(arg.ast_node.directives, cost_name)
                        if arg_weight is not None:
                            model.argument_weights[(type_name, field_name, arg_name)] = arg_weight
        return model


_MODELS: dict[int, tuple[weakref.ref, CostModel]] = {}


def cost_directive_names(schema: GraphQLSchema) -> tuple[str, str]:
    """(local name of @cost, local name of @listSize) under the schema's `@link` to the cost spec."""
    links = [d for node in [schema.ast_node, *schema.extension_ast_nodes] if node is not None
             for d in node.directives or () if d.name.value == "link"]
    for link in links:
        args = {a.name.value: value_from_ast_untyped(a.value) for a in link.arguments or ()}
        parts = [p for p in str(args.get("url") or "").rstrip("/").split("/") if p]
        if len(parts) < 2 or parts[-2] != COST_SPEC:
            continue
        prefix = str(args.get("as") or COST_SPEC)
        cost_name, list_size_name = prefix, f"{prefix}__listSize"
        for imported in args.get("import") or ():
            name, alias = (imported.get("name"), imported.get("as")) if isinstance(imported, dict) else (imported, None)
            local = str(alias or name).lstrip("@")
            if name == "@listSize":
                list_size_name = local
            elif name == "@cost":
                cost_name = local
        return cost_name, list_size_name
    # no link: a plain schema (a subgraph's, or a test's) spells them by their own names
    return "cost", "listSize"


def _nodes(named) -> list:
    node = getattr(named, "ast_node", None)
    return [n for n in [node, *(getattr(named, "extension_ast_nodes", None) or ())] if n is not None]


def _args(directive: DirectiveNode) -> dict:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def _weight(directives, cost_name: str) -> int | None:
    for directive in directives or ():
        if directive.name.value == cost_name:
            weight = _args(directive).get("weight")
            if isinstance(weight, int) and not isinstance(weight, bool):
                return weight
    return None


def _list_size(directive: DirectiveNode) -> ListSize:
    args = _args(directive)
    assumed = args.get("assumedSize")
    require = args.get("requireOneSlicingArgument")
    return ListSize(
        assumed_size=assumed if isinstance(assumed, int) else None,
        slicing_arguments=tuple(str(a) for a in args.get("slicingArguments") or ()),
        sized_fields=tuple(str(a) for a in args.get("sizedFields") or ()),
        require_one_slicing_argument=True if require is None else bool(require),
    )
