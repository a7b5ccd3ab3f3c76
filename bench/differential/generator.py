"""Random valid operations over an API schema, deterministic by seed, built as graphql-core AST.

What a generated operation may hold: several fields per selection, aliases (some equal to another
field's name of the same type), the same field selected twice, arguments taken from the schema (with
values seen in example operations when there are some, else values made up from the argument's type),
arguments passed as variables (some with defaults the request then leaves out), inline fragments and
named fragments on abstract types and their members, `@skip`/`@include` with literals and with
variables, nested selections as deep as `max_depth` (entity jumps in a federated schema).

Every candidate is validated against the schema with graphql-core; an invalid one (e.g. two selections
under one response key that cannot merge) is dropped and the next sub-seed tried, so what comes out is
always a valid operation. Mutations are generated only over root fields with a `requestId: String!`
argument: those keep their state per request id, so each gateway can be sent its own id
(`GeneratedOperation.per_gateway`) and both start from the same state.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_composite_type,
    is_leaf_type,
    is_non_null_type,
    parse,
    parse_type,
    print_ast,
    validate,
    visit,
)
from graphql.utilities import value_from_ast_untyped

REQUEST_ID = "requestId"


@dataclass(frozen=True)
class GeneratedOperation:
    seed: int
    document: DocumentNode
    variables: dict[str, Any]
    is_mutation: bool
    per_gateway: tuple[str, ...] = ()  # variables whose value each gateway gets its own copy of

    @property
    def text(self) -> str:
        return print_ast(self.document)

    def variables_for(self, gateway: str, nonce: str) -> dict[str, Any]:
        values = dict(self.variables)
        for name in self.per_gateway:
            values[name] = f"diff-{nonce}-{self.seed}-{gateway}"
        return values


class ArgumentPool:
    """Argument values seen in example operations: by field coordinate and argument, and by input type."""

    def __init__(self) -> None:
        self.by_argument: dict[str, list[ValueNode]] = defaultdict(list)
        self.by_type: dict[str, list[ValueNode]] = defaultdict(list)

    @classmethod
    def from_operations(cls, schema: GraphQLSchema, texts: list[str]) -> ArgumentPool:
        pool = cls()
        for text in texts:
            try:
                document = parse(text)
            except Exception:  # an example the schema's parser refuses teaches nothing
                continue
            if validate(schema, document):
                continue
            type_info = TypeInfo(schema)
            visit(document, TypeInfoVisitor(type_info, _ArgumentCollector(type_info, pool)))
        return pool


class _ArgumentCollector(Visitor):
    def __init__(self, type_info: TypeInfo, pool: ArgumentPool) -> None:
        super().__init__()
        self.type_info = type_info
        self.pool = pool

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        argument = self.type_info.get_argument()
        parent = self.type_info.get_parent_type()
        field_def = self.type_info.get_field_def()
        if argument is None or parent is None or field_def is None or _has_variable(node.value):
            return
        name = next((n for n, f in parent.fields.items() if f is field_def), None)  # type: ignore[union-attr]
        self.pool.by_argument[f"{parent.name}.{name}({node.name.value})"].append(node.value)
        self.pool.by_type[str(get_named_type(argument.type))].append(node.value)


def _has_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_has_variable(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_has_variable(f.value) for f in value.fields)
    return False


def _name(value: str) -> NameNode:
    return NameNode(value=value)


@dataclass
class _Build:
    """The state of one candidate operation while it is generated."""

    rng: random.Random
    variable_definitions: list[VariableDefinitionNode] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    fragments: list[FragmentDefinitionNode] = field(default_factory=list)
    per_gateway: set[str] = field(default_factory=set)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


class OperationGenerator:
    def __init__(self, schema: GraphQLSchema, pool: ArgumentPool | None = None, max_depth: int = 4,
                 max_fields: int = 4, mutations: bool = True) -> None:
        self.schema = schema
        self.pool = pool or ArgumentPool()
        self.max_depth = max_depth
        self.max_fields = max_fields
        self.mutation_fields = [
            name for name, f in (schema.mutation_type.fields.items() if schema.mutation_type and mutations else ())
            if REQUEST_ID in f.args and str(f.args[REQUEST_ID].type) == "String!"
        ]

    def generate(self, seed: int, attempts: int = 40) -> GeneratedOperation | None:
        """The first valid candidate of sub-seeds seed*1000 + 0, 1, …; None if none of `attempts` is valid."""
        for attempt in range(attempts):
            candidate = self._candidate(seed, random.Random(seed * 1000 + attempt))
            if candidate is not None and not validate(self.schema, candidate.document):
                return candidate
        return None

    # -- operation ---------------------------------------------------------------------------------

    def _candidate(self, seed: int, rng: random.Random) -> GeneratedOperation | None:
        build = _Build(rng)
        is_mutation = bool(self.mutation_fields) and rng.random() < 0.25
        if is_mutation:
            assert self.schema.mutation_type is not None
            selection = self._mutation_selection(build, self.schema.mutation_type)
        else:
            assert self.schema.query_type is not None
            selection = self._selection_set(build, self.schema.query_type, depth=0, root=True)
        if selection is None:
            return None
        operation = OperationDefinitionNode(
            operation=OperationType.MUTATION if is_mutation else OperationType.QUERY,
            name=_name(f"Op{seed}") if rng.random() < 0.5 else None,
            variable_definitions=tuple(build.variable_definitions),
            directives=(),
            selection_set=selection,
        )
        document = DocumentNode(definitions=(operation, *build.fragments))
        return GeneratedOperation(seed, document, build.variables, is_mutation, tuple(sorted(build.per_gateway)))

    def _mutation_selection(self, build: _Build, mutation: GraphQLObjectType) -> SelectionSetNode:
        selections: list[SelectionNode] = []
        for _ in range(build.rng.randint(1, 3)):
            name = build.rng.choice(self.mutation_fields)
            node = self._field(build, mutation, name, mutation.fields[name], depth=0)
            if node is not None:
                selections.append(node)
        return SelectionSetNode(selections=tuple(selections))

    # -- selections --------------------------------------------------------------------------------

    def _selection_set(self, build: _Build, parent: GraphQLNamedType, depth: int,
                       root: bool = False) -> SelectionSetNode | None:
        rng = build.rng
        selections: list[SelectionNode] = []
        if depth >= self.max_depth:
            return SelectionSetNode(selections=(self._typename(build),))
        if is_abstract_type(parent):
            selections.extend(self._abstract_selections(build, parent, depth))
        else:
            assert isinstance(parent, GraphQLObjectType)
            names = [n for n in parent.fields if not n.startswith("__")]
            if root:
                names = [n for n in names if n not in ("_entities", "_service")]
            if not names:
                return None
            for _ in range(rng.randint(1, min(self.max_fields, len(names) + 1))):
                roll = rng.random()
                if roll < 0.12 and not root:
                    selections.append(self._typename(build))
                elif roll < 0.2 and depth + 1 < self.max_depth:
                    inner = self._selection_set(build, parent, depth + 1)
                    if inner is not None:
                        selections.append(self._inline(build, parent.name if rng.random() < 0.6 else None, inner))
                elif roll < 0.26 and parent.interfaces and depth + 1 < self.max_depth:
                    interface = rng.choice(parent.interfaces)
                    inner = self._selection_set(build, interface, depth + 1)
                    if inner is not None:
                        selections.append(self._spread(build, interface.name, inner))
                else:
                    name = rng.choice(names)
                    node = self._field(build, parent, name, parent.fields[name], depth)
                    if node is not None:
                        selections.append(node)
                        if rng.random() < 0.08:  # the same field again: merged by the rules of field merging
                            selections.append(node)
        if not selections:
            return None
        return SelectionSetNode(selections=tuple(selections))

    def _abstract_selections(self, build: _Build, parent: GraphQLNamedType, depth: int) -> list[SelectionNode]:
        rng = build.rng
        selections: list[SelectionNode] = []
        if rng.random() < 0.5:
            selections.append(self._typename(build))
        if isinstance(parent, GraphQLInterfaceType) and rng.random() < 0.6:
            names = list(parent.fields)
            for name in rng.sample(names, k=min(len(names), rng.randint(1, 2))):
                node = self._field(build, parent, name, parent.fields[name], depth)
                if node is not None:
                    selections.append(node)
        members = list(self.schema.get_possible_types(parent))  # type: ignore[arg-type]
        for member in rng.sample(members, k=min(len(members), rng.randint(1, 3))):
            inner = self._selection_set(build, member, depth + 1)
            if inner is None:
                continue
            if rng.random() < 0.3:
                selections.append(self._spread(build, member.name, inner))
            else:
                selections.append(self._inline(build, member.name, inner))
        if not selections:
            selections.append(self._typename(build))
        return selections

    def _typename(self, build: _Build) -> FieldNode:
        alias = _name(build.fresh("t")) if build.rng.random() < 0.15 else None
        return FieldNode(alias=alias, name=_name("__typename"), arguments=(),
                         directives=self._conditions(build, 0.1), selection_set=None)

    def _inline(self, build: _Build, type_name: str | None, inner: SelectionSetNode) -> InlineFragmentNode:
        return InlineFragmentNode(type_condition=NamedTypeNode(name=_name(type_name)) if type_name else None,
                                  directives=self._conditions(build, 0.25 if type_name else 0.8),
                                  selection_set=inner)

    def _spread(self, build: _Build, type_name: str, inner: SelectionSetNode) -> FragmentSpreadNode:
        name = build.fresh(f"F{type_name}")
        build.fragments.append(FragmentDefinitionNode(name=_name(name), type_condition=NamedTypeNode(name=_name(type_name)),
                                                      variable_definitions=None, directives=(), selection_set=inner))
        return FragmentSpreadNode(name=_name(name), directives=self._conditions(build, 0.2))

    def _field(self, build: _Build, parent: GraphQLNamedType, name: str, definition: GraphQLField,
               depth: int) -> FieldNode | None:
        rng = build.rng
        arguments = []
        for arg_name, argument in definition.args.items():
            required = is_non_null_type(argument.type) and argument.default_value is _UNDEFINED
            if required or rng.random() < 0.35:
                value = self._argument_value(build, parent, name, arg_name, argument)
                if value is None:
                    if required:
                        return None
                    continue
                arguments.append(ArgumentNode(name=_name(arg_name), value=value))
        selection_set = None
        if is_composite_type(get_named_type(definition.type)):
            selection_set = self._selection_set(build, get_named_type(definition.type), depth + 1)
            if selection_set is None:
                return None
        alias = None
        if rng.random() < 0.22:
            fields = getattr(parent, "fields", {})
            others = [n for n in fields if n != name]
            # an alias equal to another field's name is what trips response-key bookkeeping
            alias = _name(rng.choice(others) if others and rng.random() < 0.6 else build.fresh("a"))
        return FieldNode(alias=alias, name=_name(name), arguments=tuple(arguments),
                         directives=self._conditions(build, 0.15), selection_set=selection_set)

    # -- directives and values ---------------------------------------------------------------------

    def _conditions(self, build: _Build, probability: float) -> tuple[DirectiveNode, ...]:
        rng = build.rng
        if rng.random() >= probability:
            return ()
        directives = []
        for kind in rng.sample(["skip", "include"], k=2 if rng.random() < 0.15 else 1):
            if rng.random() < 0.4:
                value: ValueNode = BooleanValueNode(value=rng.random() < 0.5)
            else:
                value = self._variable(build, "Boolean", BooleanValueNode(value=rng.random() < 0.5),
                                       nullable=True)
            directives.append(DirectiveNode(name=_name(kind), arguments=(ArgumentNode(name=_name("if"), value=value),)))
        return tuple(directives)

    def _variable(self, build: _Build, type_text: str, value: ValueNode, nullable: bool) -> VariableNode:
        """A new variable holding `value`: sent in the request, or left out and declared as its default."""
        rng = build.rng
        name = build.fresh("v")
        default = None
        if nullable and rng.random() < 0.4:
            default = value
            if rng.random() < 0.5:  # the request sends another value, overriding the default
                build.variables[name] = value_from_ast_untyped(value)
        else:
            build.variables[name] = value_from_ast_untyped(value)
            if not nullable:
                type_text = type_text if type_text.endswith("!") else type_text + "!"
        build.variable_definitions.append(VariableDefinitionNode(
            variable=VariableNode(name=_name(name)), type=parse_type(type_text), default_value=default, directives=()))
        return VariableNode(name=_name(name))

    def _argument_value(self, build: _Build, parent: GraphQLNamedType, field_name: str, arg_name: str,
                        argument: GraphQLArgument) -> ValueNode | None:
        rng = build.rng
        if arg_name == REQUEST_ID and parent is self.schema.mutation_type:
            if REQUEST_ID not in build.per_gateway:
                build.per_gateway.add(REQUEST_ID)
                build.variables[REQUEST_ID] = "placeholder"
                build.variable_definitions.append(VariableDefinitionNode(
                    variable=VariableNode(name=_name(REQUEST_ID)), type=parse_type("String!"), directives=()))
            return VariableNode(name=_name(REQUEST_ID))
        seen = self.pool.by_argument.get(f"{parent.name}.{field_name}({arg_name})")
        if seen and rng.random() < 0.8:
            value: ValueNode | None = rng.choice(seen)
        else:
            value = self._value(build, argument.type, depth=0)
        if value is None:
            return None
        if rng.random() < 0.3:
            return self._variable(build, str(argument.type), value, nullable=not is_non_null_type(argument.type))
        return value

    def _value(self, build: _Build, type_: GraphQLInputType, depth: int) -> ValueNode | None:
        rng = build.rng
        if depth > 3:
            return None
        nullable = get_nullable_type(type_)
        if isinstance(nullable, GraphQLList):
            item = self._value(build, nullable.of_type, depth + 1)
            return ListValueNode(values=(item,) if item is not None else ())
        named = get_named_type(type_)
        seen = self.pool.by_type.get(named.name)
        if seen and rng.random() < 0.7:
            return rng.choice(seen)
        if isinstance(named, GraphQLEnumType):
            return EnumValueNode(value=rng.choice(list(named.values)))
        if isinstance(named, GraphQLInputObjectType):
            fields = []
            for name, input_field in named.fields.items():
                if is_non_null_type(input_field.type) and input_field.default_value is _UNDEFINED or rng.random() < 0.3:
                    value = self._value(build, input_field.type, depth + 1)
                    if value is None:
                        return None
                    fields.append(ObjectFieldNode(name=_name(name), value=value))
            return ObjectValueNode(fields=tuple(fields))
        assert isinstance(named, GraphQLScalarType) and is_leaf_type(named)
        if named.name == "Int":
            return IntValueNode(value=str(rng.choice([0, 1, 2, 3, 5, 10])))
        if named.name == "Float":
            return FloatValueNode(value=rng.choice(["1.5", "10.0", "0.5"]))
        if named.name == "Boolean":
            return BooleanValueNode(value=rng.random() < 0.5)
        return StringValueNode(value=rng.choice(["1", "2", "p1", "u1", "a", "x"]))


try:  # graphql-core 3.3 names it Undefined in graphql.pyutils
    from graphql.pyutils import Undefined as _UNDEFINED
except ImportError:  # pragma: no cover
    from graphql import Undefined as _UNDEFINED  # type: ignore[attr-defined,no-redef]
