"""A subgraph schema as composition sees it: types, fields, arguments and applied directives.

Values are kept as graphql-core AST nodes so they print back exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import StringValueNode, ValueNode, print_ast


@dataclass
class Applied:
    """One directive application. `fed` is the canonical federation name (key, external…) or None."""

    name: str
    args: dict[str, ValueNode]
    on_extension: bool = False
    fed: str | None = None

    def string_arg(self, name: str) -> str | None:
        value = self.args.get(name)
        if isinstance(value, StringValueNode):
            return value.value
        return None

    def bool_arg(self, name: str, default: bool) -> bool:
        value = self.args.get(name)
        if value is None:
            return default
        return print_ast(value) == "true"

    def printed_args(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, print_ast(v)) for k, v in self.args.items())


@dataclass
class ArgDef:
    name: str
    type: str
    default: ValueNode | None = None
    directives: list[Applied] = field(default_factory=list)
    description: str | None = None

    def from_context(self) -> Applied | None:
        """The `@fromContext` on this argument, if any (its value comes from an ancestor, not the client)."""
        return next((d for d in self.directives if d.fed == "fromContext"), None)


@dataclass
class FieldDef:
    name: str
    type: str
    args: dict[str, ArgDef] = field(default_factory=dict)
    directives: list[Applied] = field(default_factory=list)
    description: str | None = None
    on_extension: bool = False
    default: ValueNode | None = None  # input fields only

    def has(self, fed_name: str) -> bool:
        return any(d.fed == fed_name for d in self.directives)

    def first(self, fed_name: str) -> Applied | None:
        return next((d for d in self.directives if d.fed == fed_name), None)


@dataclass
class EnumValueDef:
    name: str
    directives: list[Applied] = field(default_factory=list)
    description: str | None = None


@dataclass
class TypeDef:
    name: str
    kind: str  # OBJECT, INTERFACE, UNION, ENUM, SCALAR, INPUT_OBJECT
    description: str | None = None
    directives: list[Applied] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, FieldDef] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValueDef] = field(default_factory=dict)
    has_definition: bool = False
    has_extension: bool = False

    def has(self, fed_name: str) -> bool:
        return any(d.fed == fed_name for d in self.directives)

    def all_of(self, fed_name: str) -> list[Applied]:
        return [d for d in self.directives if d.fed == fed_name]


@dataclass
class DirectiveDef:
    name: str
    args: dict[str, ArgDef] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)
    repeatable: bool = False
    description: str | None = None


@dataclass
class Link:
    """One `@link` of a subgraph: which spec, under which local names."""

    url: str
    identity: str
    name: str
    version: tuple[int, int]
    alias: str | None
    imports: dict[str, str]  # name in spec ("@key", "FieldSet") -> name in schema

    def local_directive_name(self, spec_name: str) -> str:
        imported = self.imports.get("@" + spec_name)
        if imported:
            return imported[1:]
        prefix = self.alias or self.name
        if spec_name == self.name:
            return prefix
        return f"{prefix}__{spec_name}"
