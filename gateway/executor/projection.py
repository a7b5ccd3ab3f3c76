"""Shape the merged subgraph data to the client's operation, following the API schema.

Walks the client's selection (aliases, inline fragments, @skip/@include), drops the key and @requires
fields the client did not ask for, answers __typename, and applies GraphQL null propagation: a null
in a non-null position nulls the nearest nullable parent, with an error at that path.

The walk is driven by compiled `FieldShape`s (one per response key and runtime type), built once per
operation and @skip/@include outcome and kept by the executor per plan, so a cached plan projects without looking
at the AST or the schema's type wrappers again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
)

from gateway.document import included
from gateway.executor.representations import PathChain

# ((is_list, non_null), ...) of a field's type, outermost first; the last is the named type
Levels = tuple[tuple[bool, bool], ...]

INVALID = object()  # a null that must propagate to the nearest nullable parent

# FieldShape.kind
TYPENAME, LEAF, ENUM, OBJECT, ABSTRACT, ANSWERED = range(6)


class FieldShape:
    """How to complete one response key: its type's wrappers, its kind and its sub-selections."""

    __slots__ = ("key", "name", "parent", "kind", "levels", "simple", "single_object", "non_null", "named",
                 "subs", "enum_values", "hidden_enum_values", "children")

    def __init__(self, key: str, name: str, parent: str, kind: int, levels: Levels, named: str,
                 subs: tuple[SelectionSetNode, ...], enum_values: frozenset[str] | None,
                 hidden_enum_values: frozenset[str] = frozenset()) -> None:
        self.key = key
        self.name = name
        self.parent = parent
        self.kind = kind
        self.levels = levels  # ((is_list, non_null), ...) outermost first; the last is the named type
        self.simple = kind == LEAF and len(levels) == 1  # a scalar, not in a list: the hot path
        self.single_object = kind == OBJECT and len(levels) == 1  # one object of a known type
        self.non_null = levels[0][1] if levels else False
        self.named = named
        self.subs = subs
        self.enum_values = enum_values
        self.hidden_enum_values = hidden_enum_values  # in the supergraph, not in the API schema (@inaccessible)
        self.children: dict[str, ObjectShape] = {}  # runtime type -> its fields (filled lazily)


class ObjectShape:
    """The fields of one selection on one runtime type, split for the projection's hot loop: every
    response key in order (copied in one pass), the plain non-null scalars to check, and the fields
    that need more than a copy (objects, lists, enums, __typename)."""

    __slots__ = ("fields", "keys", "required", "complex")

    def __init__(self, fields: list[FieldShape]) -> None:
        self.fields = fields
        self.keys = tuple(f.key for f in fields)
        # response keys of the plain non-null scalars (keys, not shapes: the hot loop only reads `out`)
        self.required = tuple(f.key for f in fields if f.simple and f.non_null)
        self.complex = tuple(f for f in fields if not f.simple and f.kind != ANSWERED)


def _levels(gql_type: GraphQLOutputType) -> tuple[Levels, GraphQLNamedType]:
    levels: list[tuple[bool, bool]] = []
    while True:
        non_null = False
        if isinstance(gql_type, GraphQLNonNull):
            non_null = True
            gql_type = gql_type.of_type
        if isinstance(gql_type, GraphQLList):
            levels.append((True, non_null))
            gql_type = gql_type.of_type
        else:
            levels.append((False, non_null))
            return tuple(levels), cast(GraphQLNamedType, gql_type)


class ShapeCompiler:
    """Collects fields (fragments, @skip/@include) into FieldShapes for one variables outcome."""

    def __init__(self, schema: GraphQLSchema, variables: Mapping[str, Any],
                 full_schema: GraphQLSchema | None = None) -> None:
        self.schema = schema
        self.full_schema = full_schema  # the supergraph's schema: what the API schema hides
        self.variables = variables  # coerced; only their @skip/@include outcome matters

    def _applies(self, condition: str | None, runtime: str) -> bool:
        if condition is None or condition == runtime:
            return True
        cond_type = self.schema.get_type(condition)
        runtime_type = self.schema.get_type(runtime)
        if cond_type is None or runtime_type is None or not is_abstract_type(cond_type):
            return False
        if not isinstance(runtime_type, GraphQLObjectType):
            return False
        return self.schema.is_sub_type(cond_type, runtime_type)

    def fields(self, runtime: str, selection_sets: tuple[SelectionSetNode, ...]) -> list[FieldShape]:
        parent = self.schema.get_type(runtime)
        variables = self.variables
        grouped: dict[str, tuple[FieldNode, list[SelectionSetNode]]] = {}

        def walk(selection_set: SelectionSetNode) -> None:
            for s in selection_set.selections:
                if s.directives and not included(s, variables):
                    continue
                if isinstance(s, FieldNode):
                    key = s.alias.value if s.alias else s.name.value
                    entry = grouped.get(key)
                    if entry is None:
                        entry = grouped[key] = (s, [])
                    if s.selection_set is not None:
                        entry[1].append(s.selection_set)
                elif isinstance(s, InlineFragmentNode):
                    cond = s.type_condition.name.value if s.type_condition else None
                    if self._applies(cond, runtime):
                        walk(s.selection_set)
                # (no fragment spreads: the prepared operation's selection has them inlined)

        for ss in selection_sets:
            walk(ss)
        fields_map = getattr(parent, "fields", {})
        result: list[FieldShape] = []
        for key, (node, subs) in grouped.items():
            name = node.name.value
            if name == "__typename":
                result.append(FieldShape(key, name, runtime, TYPENAME, ((False, True),), runtime, (), None))
                continue
            if name in ("__schema", "__type"):
                result.append(FieldShape(key, name, runtime, ANSWERED, ((False, False),), name, (), None))
                continue
            field_def = fields_map.get(name)
            if field_def is None:
                continue
            levels, named = _levels(field_def.type)
            if is_leaf_type(named):
                kind = ENUM if isinstance(named, GraphQLEnumType) else LEAF
                enum_values = frozenset(named.values) if isinstance(named, GraphQLEnumType) else None
            else:
                kind = ABSTRACT if is_abstract_type(named) else OBJECT
                enum_values = None
            hidden: frozenset[str] = frozenset()
            if enum_values is not None and self.full_schema is not None:
                full = self.full_schema.get_type(named.name)
                if isinstance(full, GraphQLEnumType):
                    hidden = frozenset(full.values) - enum_values
            result.append(FieldShape(key, name, runtime, kind, levels, named.name, tuple(subs), enum_values, hidden))
        return result


def _reads_runtime_type(selection_sets: tuple[SelectionSetNode, ...], schema: GraphQLSchema) -> bool:
    """Whether a selection reads its object's concrete type: `__typename`, or a fragment on an object type."""
    for selection_set in selection_sets:
        for s in selection_set.selections:
            if isinstance(s, FieldNode):
                if s.name.value == "__typename":
                    return True
            elif isinstance(s, InlineFragmentNode):
                condition = schema.get_type(s.type_condition.name.value) if s.type_condition else None
                if isinstance(condition, GraphQLObjectType) or _reads_runtime_type((s.selection_set,), schema):
                    return True
    return False


def _materialize(path: PathChain) -> list[str | int]:
    out: list[str | int] = []
    while path is not None:
        path, key = path
        out.append(key)
    out.reverse()
    return out


class Projector:
    def __init__(self, compiler: ShapeCompiler, errors: list[dict[str, Any]],
                 error_paths: set[tuple[str | int, ...]],
                 value_completion: list[dict[str, Any]] | None = None) -> None:
        self.compiler = compiler
        self.schema = compiler.schema
        self.errors = errors
        self.error_paths = error_paths
        # where nullifications go (the routers' `extensions.valueCompletion`); None: into `errors` (strict)
        self.value_completion = value_completion

    def _nullified(self, path: PathChain, message: str) -> None:
        """A null the data explains by itself: reported as the routers do (see the module's docstring)."""
        self._null_error(path, message, self.value_completion)

    def _null_error(self, path: PathChain, message: str, into: list[dict[str, Any]] | None = None) -> None:
        as_list = _materialize(path)
        key = tuple(as_list)
        # A null already explained by an error at this path or above (e.g. a subgraph's NOT_FOUND for
        # the entity) is not reported again for the fields it left empty.
        if any(key[:depth] in self.error_paths for depth in range(1, len(key) + 1)):
            return
        self.error_paths.add(key)
        (self.errors if into is None else into).append({"message": message, "path": as_list})

    def children(self, shape: FieldShape, runtime: str) -> ObjectShape:
        found = shape.children.get(runtime)
        if found is None:
            found = shape.children[runtime] = ObjectShape(self.compiler.fields(runtime, shape.subs))
        return found

    def project_object(self, object_shape: ObjectShape, runtime: str, obj: dict[str, Any], path: PathChain) -> Any:
        get = obj.get
        # every key at once, in the client's order; fields that need completing are overwritten in place.
        # A plain loop: on Python 3.11 a dict comprehension builds and calls a function object per
        # object, which costs more than the copy itself for the few keys an object has.
        out: dict[str, Any] = {}
        for key in object_shape.keys:
            out[key] = get(key)
        for key in object_shape.required:
            if out[key] is None:
                # rare: redo field by field, so errors come in the order (and stop where) GraphQL says
                return self._project_in_order(object_shape, runtime, obj, path)
        for shape in object_shape.complex:
            key = shape.key
            if shape.kind == TYPENAME:
                out[key] = runtime
                continue
            value = out[key]
            if shape.single_object and type(value) is dict:
                named = shape.named
                child = shape.children.get(named)
                if child is None:
                    child = self.children(shape, named)
                r = self.project_object(child, named, value, (path, key))
                if r is INVALID:
                    if shape.non_null:
                        return INVALID
                    r = None
                out[key] = r
                continue
            r = self.complete(shape, 0, value, (path, key))
            if r is INVALID:
                return INVALID
            out[key] = r
        return out

    def _project_in_order(self, object_shape: ObjectShape, runtime: str, obj: dict[str, Any], path: PathChain) -> Any:
        out: dict[str, Any] = {}
        for shape in object_shape.fields:
            key = shape.key
            value = obj.get(key)
            if shape.simple:
                if value is None and shape.non_null:
                    self._nullified((path, key), f"Cannot return null for non-nullable field {shape.parent}.{shape.name}.")
                    return INVALID
                out[key] = value
            elif shape.kind == TYPENAME:
                out[key] = runtime
            elif shape.kind == ANSWERED:
                out[key] = value
            else:
                r = self.complete(shape, 0, value, (path, key))
                if r is INVALID:
                    return INVALID
                out[key] = r
        return out

    def complete(self, shape: FieldShape, level: int, value: Any, path: PathChain) -> Any:
        is_list, non_null = shape.levels[level]
        if value is None:
            if non_null:
                self._nullified(path, f"Cannot return null for non-nullable field {shape.parent}.{shape.name}.")
                return INVALID
            return None
        if is_list:
            if type(value) is not list:
                self._null_error(path, f"Expected a list for field {shape.parent}.{shape.name}.")
                return INVALID if non_null else None
            out: list[Any] = []
            nxt = level + 1
            append = out.append
            if shape.kind == OBJECT and not shape.levels[nxt][0]:
                # a list of objects of one type (the common case): project each item directly
                item_non_null = shape.levels[nxt][1]
                runtime = shape.named
                object_shape = self.children(shape, runtime)
                project = self.project_object
                for i, item in enumerate(value):
                    if type(item) is dict:
                        r = project(object_shape, runtime, item, (path, i))
                        if r is INVALID:
                            if item_non_null:
                                return INVALID if non_null else None
                            r = None
                    else:
                        r = self.complete(shape, nxt, item, (path, i))
                        if r is INVALID:
                            return INVALID if non_null else None
                    append(r)
                return out
            for i, item in enumerate(value):
                r = self.complete(shape, nxt, item, (path, i))
                if r is INVALID:
                    return INVALID if non_null else None
                append(r)
            return out
        kind = shape.kind
        if kind == LEAF:
            return value
        if kind == ENUM:
            if isinstance(value, str) and shape.enum_values is not None and value not in shape.enum_values:
                message = f'Enum "{shape.named}" cannot represent value: "{value}"'
                if value in shape.hidden_enum_values:
                    self._nullified(path, message)
                else:
                    self._null_error(path, message)
                return INVALID if non_null else None
            return value
        if type(value) is not dict:
            return INVALID if non_null else None
        if kind == OBJECT:
            runtime = shape.named
        else:
            runtime = value.get("__typename") or shape.named
            runtime_type = self.schema.get_type(runtime)
            if runtime_type is None:
                # a type hidden from the API schema (@inaccessible)
                return INVALID if non_null else None
            if not isinstance(runtime_type, GraphQLObjectType) and _reads_runtime_type(shape.subs, self.schema):
                # No subgraph said which object this is (e.g. the fetch that resolves an @interfaceObject's
                # real type failed), and the selection depends on it: GraphQL cannot complete it.
                self._nullified(path, f'Abstract type "{shape.named}" must resolve to an object type at runtime '
                                      f'for field {shape.parent}.{shape.name}; got "{runtime}".')
                return INVALID if non_null else None
        r = self.project_object(self.children(shape, runtime), runtime, value, path)
        if r is INVALID:
            return INVALID if non_null else None
        return r
