"""Shape the merged subgraph data to the client's operation, following the API schema.

Walks the client's selection (aliases, fragments, @skip/@include), drops the key and @requires
fields the client did not ask for, answers __typename, and applies GraphQL null propagation: a null
in a non-null position nulls the nearest nullable parent, with an error at that path.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)

INVALID = object()  # a null that must propagate to the nearest nullable parent
_ANSWERED = object()  # marks introspection root fields, whose values arrive already shaped


class Projector:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict, errors: list[dict], error_paths: set[tuple]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.errors = errors
        self.error_paths = error_paths
        self._collected: dict[tuple, list] = {}

    # -- field collection (cached per selection sets and runtime type) --------------------------------
    def _included(self, node) -> bool:
        for d in node.directives or ():
            name = d.name.value
            if name not in ("skip", "include"):
                continue
            arg = next((a for a in d.arguments or () if a.name.value == "if"), None)
            value = bool(value_from_ast_untyped(arg.value, self.variables)) if arg is not None else False
            if (name == "skip" and value) or (name == "include" and not value):
                return False
        return True

    def _applies(self, condition: str | None, runtime: str) -> bool:
        if condition is None or condition == runtime:
            return True
        cond_type = self.schema.get_type(condition)
        runtime_type = self.schema.get_type(runtime)
        if cond_type is None or runtime_type is None or not is_abstract_type(cond_type):
            return False
        if not isinstance(runtime_type, GraphQLObjectType):
            return False
        return self.schema.is_sub_type(cond_type, runtime_type)  # type: ignore[arg-type]

    def collect(self, runtime: str, selection_sets: tuple[SelectionSetNode, ...]) -> list:
        cache_key = (runtime, *map(id, selection_sets))
        cached = self._collected.get(cache_key)
        if cached is not None:
            return cached
        parent = self.schema.get_type(runtime)
        grouped: dict[str, list] = {}

        def walk(selection_set: SelectionSetNode) -> None:
            for s in selection_set.selections:
                if not self._included(s):
                    continue
                if isinstance(s, FieldNode):
                    key = s.alias.value if s.alias else s.name.value
                    entry = grouped.get(key)
                    if entry is None:
                        grouped[key] = [s, []]
                        entry = grouped[key]
                    if s.selection_set is not None:
                        entry[1].append(s.selection_set)
                elif isinstance(s, InlineFragmentNode):
                    cond = s.type_condition.name.value if s.type_condition else None
                    if self._applies(cond, runtime):
                        walk(s.selection_set)
                elif isinstance(s, FragmentSpreadNode):
                    frag = self.fragments.get(s.name.value)
                    if frag is not None and self._applies(frag.type_condition.name.value, runtime):
                        walk(frag.selection_set)

        for ss in selection_sets:
            walk(ss)
        fields_map = getattr(parent, "fields", {})
        result = []
        for key, (node, subs) in grouped.items():
            name = node.name.value
            if name == "__typename":
                result.append((key, name, None, ()))
                continue
            if name in ("__schema", "__type"):
                result.append((key, name, _ANSWERED, ()))  # already completed by graphql-core
                continue
            field_def = fields_map.get(name)
            if field_def is None:
                continue
            result.append((key, name, field_def.type, tuple(subs)))
        self._collected[cache_key] = result
        return result

    # -- completion ----------------------------------------------------------------------------------
    def _null_error(self, path: list, message: str) -> None:
        key = tuple(path)
        if key in self.error_paths:
            return
        self.error_paths.add(key)
        self.errors.append({"message": message, "path": list(path)})

    def complete(self, gql_type, value: Any, subs: tuple, path: list, parent_name: str = "", field_name: str = ""):
        if isinstance(gql_type, GraphQLNonNull):
            result = self.complete(gql_type.of_type, value, subs, path, parent_name, field_name)
            if result is None:
                self._null_error(path, f"Cannot return null for non-nullable field {parent_name}.{field_name}.")
                return INVALID
            return result
        if value is None:
            return None
        if isinstance(gql_type, GraphQLList):
            if not isinstance(value, list):
                self._null_error(path, f"Expected a list for field {parent_name}.{field_name}.")
                return None
            item_type = gql_type.of_type
            out = []
            for i, item in enumerate(value):
                r = self.complete(item_type, item, subs, path + [i], parent_name, field_name)
                if r is INVALID:
                    return None if not isinstance(gql_type, GraphQLNonNull) else INVALID
                out.append(r)
            return out
        if is_leaf_type(gql_type):
            if isinstance(gql_type, GraphQLEnumType) and isinstance(value, str) and value not in gql_type.values:
                self._null_error(path, f"Enum \"{gql_type.name}\" cannot represent value: \"{value}\"")
                return None
            return value
        if not isinstance(value, dict):
            return None
        if is_abstract_type(gql_type):
            runtime = value.get("__typename") or gql_type.name
            if self.schema.get_type(runtime) is None:
                return None  # a type hidden from the API schema (@inaccessible)
        else:
            runtime = gql_type.name
        r = self.project_object(runtime, value, subs, path)
        return None if r is INVALID else r

    def project_object(self, runtime: str, obj: dict, subs: tuple, path: list):
        out: dict = {}
        for key, name, field_type, child_subs in self.collect(runtime, subs):
            if field_type is None:
                out[key] = runtime
                continue
            if field_type is _ANSWERED:
                out[key] = obj.get(key)
                continue
            r = self.complete(field_type, obj.get(key), child_subs, path + [key], runtime, name)
            if r is INVALID:
                return INVALID
            out[key] = r
        return out
