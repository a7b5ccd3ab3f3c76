"""Checks on one subgraph before merging: known types, and `@key`/`@requires`/`@provides`/`@external` usage.

Every message names the subgraph in brackets, then the type and field, as Apollo's messages do.
"""

from __future__ import annotations

from gateway.composition.federation_facts import FederationFacts
from gateway.composition.field_sets import FieldSetError, walk_field_set
from gateway.composition.model import Applied, FieldDef, TypeDef
from gateway.composition.subgraph import BUILTIN_SCALARS, Subgraph
from gateway.composition.type_refs import named_type


def validate_known_types(sg: Subgraph) -> list[str]:
    errors: list[str] = []

    def check(type_ref: str, where: str) -> None:
        base = named_type(type_ref)
        if base not in sg.types and base not in BUILTIN_SCALARS:
            errors.append(f'[{sg.name}] Unknown type "{base}" referenced by {where}.')

    for t in sg.types.values():
        for f in t.fields.values():
            check(f.type, f'field "{t.name}.{f.name}"')
            for a in f.args.values():
                check(a.type, f'argument "{t.name}.{f.name}({a.name}:)"')
        for m in t.members:
            if sg.types.get(m) is None or sg.types[m].kind != "OBJECT":
                errors.append(f'[{sg.name}] Union "{t.name}" has member "{m}", which is not an object type defined in this subgraph.')
        for i in t.interfaces:
            if sg.types.get(i) is None or sg.types[i].kind != "INTERFACE":
                errors.append(f'[{sg.name}] Type "{t.name}" implements "{i}", which is not an interface defined in this subgraph.')
    for d in sg.directive_defs.values():
        for a in d.args.values():
            check(a.type, f'argument "@{d.name}({a.name}:)"')
    return errors


BUILTIN_DIRECTIVES = {"deprecated", "specifiedBy", "oneOf", "include", "skip", "link"}


def validate_known_directives(sg: Subgraph) -> list[str]:
    """Every applied directive must be federation's, built in, or defined in the subgraph."""
    errors: list[str] = []

    def check(applied: list[Applied], where: str) -> None:
        for d in applied:
            if d.fed is None and d.name not in BUILTIN_DIRECTIVES and d.name not in sg.directive_defs:
                errors.append(f'[{sg.name}] Unknown directive "@{d.name}" on {where}.')

    check(sg.schema_directives, "the schema")
    for t in sg.types.values():
        check(t.directives, f'type "{t.name}"')
        for f in t.fields.values():
            check(f.directives, f'field "{t.name}.{f.name}"')
            for a in f.args.values():
                check(a.directives, f'argument "{t.name}.{f.name}({a.name}:)"')
        for v in t.values.values():
            check(v.directives, f'enum value "{t.name}.{v.name}"')
    return errors


def _check_field_set(sg: Subgraph, facts: FederationFacts, directive: Applied, where: str, parent: str,
                     must_be_external: bool, allow_arguments: bool) -> list[str]:
    fields = directive.string_arg("fields")
    label = f'@{directive.fed}(fields: "{fields}")'
    if fields is None:
        return [f"[{sg.name}] On {where}, @{directive.fed} has no string `fields` argument."]
    try:
        selected = walk_field_set(sg, parent, fields)
    except FieldSetError as err:
        return [f"[{sg.name}] On {where}, for {label}: {err} (if the field is defined in another subgraph, "
                f"you need to add it to this subgraph with @external)."]
    errors: list[str] = []
    external_depths: list[int] = []
    for s in selected:
        while external_depths and external_depths[-1] >= s.depth:
            external_depths.pop()
        t = sg.types[s.type_name]
        f = t.fields[s.field_name]
        is_external = facts.is_external(t, f)
        if not allow_arguments and f.args:
            errors.append(f'[{sg.name}] On {where}, for {label}: field "{t.name}.{f.name}" cannot be included because '
                          f"it has arguments (fields with argument are not allowed in @{directive.fed}).")
        if must_be_external and s.is_leaf and not is_external and not external_depths:
            errors.append(f'[{sg.name}] On {where}, for {label}: field "{t.name}.{f.name}" should not be part of a '
                          f"@{directive.fed} since it is already provided by this subgraph (it is not marked @external).")
        if not s.is_leaf and (is_external or (t.kind == "INTERFACE" and any(
                s.field_name in impl.fields and facts.is_external(impl, impl.fields[s.field_name])
                for impl in sg.implementations(t.name)))):
            external_depths.append(s.depth)
    return errors


def validate_federation_directives(sg: Subgraph, facts: FederationFacts) -> list[str]:
    errors: list[str] = []
    for t in sg.types.values():
        if t.kind not in ("OBJECT", "INTERFACE"):
            for d in t.directives:
                if d.fed == "key":
                    errors.append(f'[{sg.name}] Type "{t.name}" is a {t.kind.lower()}: @key is only allowed on object and interface types.')
            continue
        for key in t.all_of("key"):
            errors += _check_field_set(sg, facts, key, f'type "{t.name}"', t.name, must_be_external=False, allow_arguments=False)
        for f in t.fields.values():
            errors += _validate_field(sg, facts, t, f)
    if sg.is_fed2:
        for t in sg.types.values():
            if t.kind not in ("OBJECT", "INTERFACE"):
                continue
            for f in t.fields.values():
                if facts.is_external(t, f) and not facts.is_used(t, f):
                    errors.append(f'[{sg.name}] Field "{t.name}.{f.name}" is marked @external but is not used in any '
                                  "federation directive (@key, @provides, @requires) or to satisfy an interface; the field "
                                  "declaration has no use and should be removed (or the field should not be @external).")
                if t.kind == "INTERFACE" and f.has("external"):
                    errors.append(f'[{sg.name}] Interface type field "{t.name}.{f.name}" is marked @external but @external '
                                  "is not allowed on interface fields.")
    return errors


def _validate_field(sg: Subgraph, facts: FederationFacts, t: TypeDef, f: FieldDef) -> list[str]:
    errors: list[str] = []
    where = f'field "{t.name}.{f.name}"'
    for d in f.directives:
        if d.fed == "requires":
            errors += _check_field_set(sg, facts, d, where, t.name, must_be_external=True, allow_arguments=True)
        elif d.fed == "provides":
            base = named_type(f.type)
            target = sg.types.get(base)
            if target is None or target.kind not in ("OBJECT", "INTERFACE", "UNION"):
                errors.append(f'[{sg.name}] Invalid @provides directive on {where}: field has type "{f.type}" which is '
                              "not a Composite Type.")
                continue
            errors += _check_field_set(sg, facts, d, where, base, must_be_external=True, allow_arguments=False)
    return errors


def validate_subgraph(sg: Subgraph, facts: FederationFacts) -> list[str]:
    errors = validate_known_types(sg) + validate_known_directives(sg)
    if errors:
        return errors
    return validate_federation_directives(sg, facts)
