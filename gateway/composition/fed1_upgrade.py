"""Give Federation 1 subgraphs Federation 2 meaning before merging, as Apollo's schema upgrader does.

Only applied when at least one subgraph is Federation 1. In short: `@external` on key fields of type
extensions is dropped, unused externals removed, type extensions become plain definitions (a type-level
`@extends` stays, so the supergraph still marks the key as an extension), keys and `@requires`/`@provides`
leave interfaces, and fields (or value types) that other subgraphs also resolve become `@shareable`.
"""

from __future__ import annotations

from graphql import StringValueNode

from gateway.composition.federation_facts import FederationFacts
from gateway.composition.field_sets import FieldSetError, target_fields, walk_field_set
from gateway.composition.model import Applied, Link, TypeDef
from gateway.composition.subgraph import FEDERATION_IDENTITY, Subgraph
from gateway.composition.type_refs import named_type

# An upgraded subgraph counts as federation v2.4 (Apollo links its auto-expanded imports at that version).
UPGRADED_FEDERATION_LINK = Link(
    url=FEDERATION_IDENTITY + "/v2.4", identity=FEDERATION_IDENTITY, name="federation", version=(2, 4),
    alias=None, imports={},
)


def _is_type_extension(t: TypeDef) -> bool:
    extends = t.has("extends")
    return (t.has_extension or extends) and t.kind in ("OBJECT", "INTERFACE") and (extends or not t.has_definition)


def _remove_external(fields_directives: list[Applied]) -> None:
    fields_directives[:] = [d for d in fields_directives if d.fed != "external"]


def upgrade_fed1(sg: Subgraph, all_subgraphs: list[Subgraph], facts_of: dict[str, FederationFacts]) -> list[str]:
    errors: list[str] = []
    original = FederationFacts(sg)

    for t in sg.types.values():
        if t.kind == "INTERFACE":
            for f in t.fields.values():
                _remove_external(f.directives)
        if t.kind == "OBJECT":
            t.directives = [d for d in t.directives if d.fed != "external"]

    # @external on the key fields of a type extension means nothing in Federation 2.
    for t in sg.types.values():
        is_root = sg.root_kind(t.name) is not None
        if not (_is_type_extension(t) or (is_root and t.has_extension)):
            continue
        keys = t.all_of("key")
        if keys:
            for key in keys:
                for type_name, field_name in target_fields(sg, t.name, key.string_arg("fields") or "", False):
                    if type_name == t.name:
                        _remove_external(t.fields[field_name].directives)
        else:
            for other in all_subgraphs:
                other_type = other.types.get(t.name) if other is not sg else None
                if other_type is None or other_type.kind not in ("OBJECT", "INTERFACE"):
                    continue
                other_keys = other_type.all_of("key")
                if not other_keys:
                    continue
                for type_name, field_name in target_fields(other, t.name, other_keys[0].string_arg("fields") or "", False):
                    if type_name == t.name and field_name in t.fields:
                        _remove_external(t.fields[field_name].directives)

    _drop_inactive_provides_and_requires(sg)

    for t in sg.types.values():
        if _is_type_extension(t) or (sg.root_kind(t.name) and t.has_extension):
            t.has_definition = True
            t.has_extension = False
            for d in t.directives:
                d.on_extension = False
            for f in t.fields.values():
                f.on_extension = False
                for d in f.directives:
                    d.on_extension = False

    for t in sg.types.values():
        if t.kind == "INTERFACE":
            t.directives = [d for d in t.directives if d.fed != "key"]
            for f in t.fields.values():
                f.directives = [d for d in f.directives if d.fed not in ("provides", "requires")]
        if t.kind == "OBJECT":
            for f in t.fields.values():
                base = sg.types.get(named_type(f.type))
                if base is None or base.kind not in ("OBJECT", "INTERFACE", "UNION"):
                    f.directives = [d for d in f.directives if d.fed != "provides"]

    facts = FederationFacts(sg)
    for t in list(sg.types.values()):
        if t.kind not in ("OBJECT", "INTERFACE"):
            continue
        for f in list(t.fields.values()):
            if facts.is_external(t, f) and not facts.is_used(t, f):
                del t.fields[f.name]
        if not t.fields and sg.root_kind(t.name) is None:
            if _is_referenced(sg, t.name):
                errors.append(f"[{sg.name}] Type {t.name} contains only external fields and all those fields are all "
                              "unused (they do not appear in any @key, @provides or @requires).")
            else:
                del sg.types[t.name]

    sg.federation_link = UPGRADED_FEDERATION_LINK
    _add_shareable(sg, all_subgraphs, original, facts_of)
    return errors


def _is_referenced(sg: Subgraph, type_name: str) -> bool:
    for t in sg.types.values():
        if type_name in t.members or type_name in t.interfaces:
            return True
        for f in t.fields.values():
            if named_type(f.type) == type_name:
                return True
    return False


def _drop_inactive_provides_and_requires(sg: Subgraph) -> None:
    """A fed1 `@provides`/`@requires` that selects fields this subgraph resolves keeps only its external part."""
    for t in sg.types.values():
        if t.kind not in ("OBJECT", "INTERFACE"):
            continue
        for f in t.fields.values():
            kept: list[Applied] = []
            for d in f.directives:
                if d.fed not in ("provides", "requires"):
                    kept.append(d)
                    continue
                parent = named_type(f.type) if d.fed == "provides" else t.name
                try:
                    selected = walk_field_set(sg, parent, d.string_arg("fields") or "")
                except FieldSetError:
                    kept.append(d)
                    continue
                top_level = [s for s in selected if s.depth == 0]
                external = [s for s in top_level if sg.types[s.type_name].fields[s.field_name].has("external")]
                if len(external) == len(top_level):
                    kept.append(d)
                elif external and len(top_level) == len(selected):
                    fields = StringValueNode(value=" ".join(s.field_name for s in external))
                    kept.append(Applied(d.name, {"fields": fields}, d.on_extension, d.fed))
            f.directives = kept


def _add_shareable(sg: Subgraph, all_subgraphs: list[Subgraph], original: FederationFacts,
                   facts_of: dict[str, FederationFacts]) -> None:
    for t in sg.types.values():
        if t.kind != "OBJECT" or sg.root_kind(t.name) == "subscription":
            continue
        others = [o for o in all_subgraphs if o is not sg and o.types.get(t.name) is not None
                  and o.types[t.name].kind in ("OBJECT", "INTERFACE")]
        if t.has("key") or sg.root_kind(t.name) is not None:
            for f in t.fields.values():
                if original.is_shareable(t, f) or f.has("shareable"):
                    continue
                for o in others:
                    of = o.types[t.name].fields.get(f.name)
                    ofacts = facts_of[o.name]
                    if of is not None and (not ofacts.is_external(o.types[t.name], of)
                                           or ofacts.is_partially_external(o.types[t.name], of)):
                        f.directives.append(Applied("shareable", {}, False, "shareable"))
                        break
        elif others and not t.has("shareable"):
            t.directives.append(Applied("shareable", {}, False, "shareable"))
