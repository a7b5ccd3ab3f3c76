"""Compare two supergraph SDLs by meaning: same types, fields, arguments and directive applications.

Order and descriptions are ignored; repeated directive applications compare as multisets. Used to check
our composition against Apollo's (bench/audit/compare_composition.py and the tests' expected outputs).
"""

from __future__ import annotations

from collections import Counter

from graphql import (
    DirectiveDefinitionNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)


def _directives(nodes) -> Counter:
    out: Counter = Counter()
    for d in nodes or ():
        args = tuple(sorted((a.name.value, print_ast(a.value)) for a in d.arguments or ()))
        out[(d.name.value, args)] += 1
    return out


def _fmt(counter: Counter) -> str:
    parts = []
    for (name, args), n in sorted(counter.items()):
        text = "@" + name + ("(" + ", ".join(f"{k}: {v}" for k, v in args) + ")" if args else "")
        parts.append(text + (f" x{n}" if n > 1 else ""))
    return " ".join(parts) or "(none)"


def _args(nodes) -> dict:
    return {a.name.value: (print_ast(a.type), print_ast(a.default_value) if a.default_value else None,
                           _directives(a.directives)) for a in nodes or ()}


def normalize(sdl: str) -> dict:
    """A comparable description of a supergraph: {element path: value}."""
    out: dict[str, object] = {}
    for node in parse(sdl).definitions:
        if isinstance(node, SchemaDefinitionNode):
            out["schema.roots"] = tuple(sorted((o.operation.value, o.type.name.value) for o in node.operation_types))
            out["schema.directives"] = _directives(node.directives)
        elif isinstance(node, DirectiveDefinitionNode):
            out[f"@{node.name.value}"] = (tuple(sorted((k, v[0], v[1]) for k, v in _args(node.arguments).items())),
                                          tuple(sorted(loc.value for loc in node.locations)), node.repeatable)
        else:
            name = node.name.value
            out[f"{name}.kind"] = type(node).__name__.replace("TypeDefinitionNode", "")
            out[f"{name}.directives"] = _directives(node.directives)
            if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
                out[f"{name}.implements"] = tuple(sorted(i.name.value for i in node.interfaces or ()))
            if isinstance(node, UnionTypeDefinitionNode):
                out[f"{name}.members"] = tuple(sorted(m.name.value for m in node.types or ()))
            if isinstance(node, EnumTypeDefinitionNode):
                for v in node.values or ():
                    out[f"{name}.{v.name.value}"] = _directives(v.directives)
            if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode, InputObjectTypeDefinitionNode)):
                for f in node.fields or ():
                    out[f"{name}.{f.name.value}.type"] = print_ast(f.type)
                    out[f"{name}.{f.name.value}.directives"] = _directives(f.directives)
                    if isinstance(node, InputObjectTypeDefinitionNode):
                        out[f"{name}.{f.name.value}.default"] = print_ast(f.default_value) if f.default_value else None
                    for arg, (typ, default, directives) in _args(getattr(f, "arguments", None)).items():
                        out[f"{name}.{f.name.value}({arg}:).type"] = typ
                        out[f"{name}.{f.name.value}({arg}:).default"] = default
                        out[f"{name}.{f.name.value}({arg}:).directives"] = directives
            if isinstance(node, ScalarTypeDefinitionNode):
                pass
    return out


def supergraph_differences(expected_sdl: str, actual_sdl: str) -> list[str]:
    """Readable differences; empty when both supergraphs mean the same."""
    expected = normalize(expected_sdl)
    actual = normalize(actual_sdl)
    diffs: list[str] = []
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            diffs.append(f"missing {key}: expected {_show(expected[key])}")
        elif key not in expected:
            diffs.append(f"unexpected {key}: {_show(actual[key])}")
        elif expected[key] != actual[key]:
            diffs.append(f"{key}: expected {_show(expected[key])}, got {_show(actual[key])}")
    return diffs


def _show(value: object) -> str:
    return _fmt(value) if isinstance(value, Counter) else repr(value)
