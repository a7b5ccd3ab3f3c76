"""Print the supergraph model as SDL in Apollo's layout: schema, directives, then types sorted by name."""

from __future__ import annotations

from gateway.composition.supergraph_model import SArg, SApplied, SField, SType, SupergraphModel

KIND_KEYWORD = {"OBJECT": "type", "INTERFACE": "interface", "UNION": "union", "ENUM": "enum", "SCALAR": "scalar",
                "INPUT_OBJECT": "input"}


def _sort_key(name: str) -> tuple[str, str]:
    return name.lower().replace("_", " "), name


def _description(text: str | None, indent: str) -> list[str]:
    if text is None:
        return []
    body = text.replace('"""', '\\"""')
    if "\n" not in body and len(body) < 70 and not body.endswith('"'):
        return [f'{indent}"""{body}"""']
    return [f'{indent}"""'] + [f"{indent}{line}" if line else "" for line in body.split("\n")] + [f'{indent}"""']


def _ordered(applied: list[SApplied], type_level: bool = False) -> list[SApplied]:
    """Apollo's order: join__ directives then @inaccessible on types, @inaccessible then join__ on fields
    and values, and the other carried-over directives last."""
    def group(d: SApplied) -> int:
        if d.name == "inaccessible":
            return 1 if type_level else 0
        if d.name.startswith("join__"):
            return 0 if type_level else 1
        return 2
    return sorted(applied, key=group)


def _directives(applied: list[SApplied]) -> str:
    return "".join(" " + d.print() for d in _ordered(applied))


def _args(args: dict[str, SArg]) -> str:
    if not args:
        return ""
    parts = []
    for a in args.values():
        text = f"{a.name}: {a.type}"
        if a.default is not None:
            text += f" = {a.default}"
        parts.append(text + _directives(a.directives))
    return "(" + ", ".join(parts) + ")"


def _field(f: SField, input_field: bool) -> list[str]:
    lines = _description(f.description, "  ")
    text = f"  {f.name}"
    if not input_field:
        text += _args(f.args)
    text += f": {f.type}"
    if input_field and f.default is not None:
        text += f" = {f.default}"
    return lines + [text + _directives(f.directives)]


def print_type(t: SType) -> str:
    lines = _description(t.description, "")
    head = f"{KIND_KEYWORD[t.kind]} {t.name}"
    if t.interfaces:
        head += " implements " + " & ".join(t.interfaces)
    if t.kind == "SCALAR":
        return "\n".join(lines + [head + "".join(" " + d.print() for d in _ordered(t.directives, True))])
    if t.kind == "UNION":
        text = head + "".join("\n  " + d.print() for d in _ordered(t.directives, True))
        if t.members:
            text += ("\n =" if t.directives else " =") + " " + " | ".join(t.members)
        return "\n".join(lines + [text])
    if t.directives:
        head += "\n" + "\n".join("  " + d.print() for d in _ordered(t.directives, True)) + "\n{"
    else:
        head += " {"
    body: list[str] = []
    if t.kind == "ENUM":
        for i, v in enumerate(t.values.values()):
            desc = _description(v.description, "  ")
            if desc and i:
                body.append("")
            body += desc + [f"  {v.name}" + _directives(v.directives)]
    else:
        for i, f in enumerate(t.fields.values()):
            if f.description is not None and i:
                body.append("")
            body += _field(f, t.kind == "INPUT_OBJECT")
    return "\n".join(lines + [head] + body + ["}"])


def print_supergraph(model: SupergraphModel) -> str:
    schema_lines = ["schema"] + ["  " + d.print() for d in model.links + model.schema_directives] + ["{"]
    schema_lines += [f"  {op}: {name}" for op, name in model.roots.items()] + ["}"]
    blocks = ["\n".join(schema_lines)]
    directive_blocks = []
    for d in model.directive_defs.values():
        text = "\n".join(_description(d.description, "")) + ("\n" if d.description else "")
        text += f"directive @{d.name}{_args(d.args)}{' repeatable' if d.repeatable else ''} on {' | '.join(d.locations)}"
        directive_blocks.append((d.name, text))
    blocks += [text for _, text in sorted(directive_blocks, key=lambda x: _sort_key(x[0]))]
    type_blocks = [(t.name, print_type(t)) for t in model.types.values()]
    blocks += [text for _, text in sorted(type_blocks, key=lambda x: _sort_key(x[0]))]
    return "\n\n".join(blocks) + "\n"
