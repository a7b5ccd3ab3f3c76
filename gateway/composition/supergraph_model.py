"""The composed supergraph, before printing: types with their join__ and carried-over directives."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import StringValueNode, print_ast


def gql_string(value: str) -> str:
    return print_ast(StringValueNode(value=value))


@dataclass
class SApplied:
    name: str
    args: list[tuple[str, str]] = field(default_factory=list)  # (argument, printed value)

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.name, tuple(sorted(self.args))

    def print(self) -> str:
        if not self.args:
            return f"@{self.name}"
        return f"@{self.name}(" + ", ".join(f"{k}: {v}" for k, v in self.args) + ")"


@dataclass
class SArg:
    name: str
    type: str = ""
    default: str | None = None
    directives: list[SApplied] = field(default_factory=list)
    description: str | None = None


@dataclass
class SField:
    name: str
    type: str = ""
    args: dict[str, SArg] = field(default_factory=dict)
    directives: list[SApplied] = field(default_factory=list)
    description: str | None = None
    default: str | None = None  # input fields


@dataclass
class SEnumValue:
    name: str
    directives: list[SApplied] = field(default_factory=list)
    description: str | None = None


@dataclass
class SType:
    name: str
    kind: str
    description: str | None = None
    directives: list[SApplied] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, SField] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    values: dict[str, SEnumValue] = field(default_factory=dict)


@dataclass
class SDirectiveDef:
    name: str
    args: dict[str, SArg] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)
    repeatable: bool = False
    description: str | None = None


@dataclass
class SupergraphModel:
    links: list[SApplied] = field(default_factory=list)
    schema_directives: list[SApplied] = field(default_factory=list)
    roots: dict[str, str] = field(default_factory=dict)
    directive_defs: dict[str, SDirectiveDef] = field(default_factory=dict)
    types: dict[str, SType] = field(default_factory=dict)
    spec_sdl: list[str] = field(default_factory=list)  # fixed definitions of linked specs (join, link, tag…)
