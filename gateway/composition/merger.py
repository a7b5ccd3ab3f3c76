"""Merge validated subgraphs into the supergraph model, following Apollo composition's rules.

Output types take the union of their fields; input types and arguments the intersection; enums are
merged by how they are used (input only: intersection, output only: union, both: must match).
Each element records which subgraphs define it with `@join__type`/`@join__field`/… directives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphql import StringValueNode, print_ast

from gateway.composition.access_control import ACCESS_CONTROL, collect_access_control
from gateway.composition.argument_mergers import MERGEABLE, merge_arguments
from gateway.composition.federation_facts import FederationFacts
from gateway.composition.field_sets import parse_context
from gateway.composition.override import FieldContext, validate_override
from gateway.composition.model import Applied, ArgDef, DirectiveDef, EnumValueDef, FieldDef, TypeDef
from gateway.composition.subgraph import Subgraph
from gateway.composition.supergraph_model import (
    SApplied, SArg, SDirectiveDef, SEnumValue, SField, SType, SupergraphModel, gql_string,
)
from gateway.composition.supergraph_specs import MERGED_DIRECTIVE_SPECS
from gateway.composition.type_refs import is_non_null, is_strict_subtype, named_type

BUILTIN_DIRECTIVES = {"deprecated", "specifiedBy", "oneOf"}
EXECUTABLE_LOCATIONS = {"QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
                        "INLINE_FRAGMENT", "VARIABLE_DEFINITION"}
KIND_LABEL = {"OBJECT": "Object Type", "INTERFACE": "Interface Type", "UNION": "Union Type", "ENUM": "Enum Type",
              "SCALAR": "Scalar Type", "INPUT_OBJECT": "Input Object Type"}


def human_list(names: Sequence[str], singular: str = "subgraph", plural: str = "subgraphs") -> str:
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return f"{singular} {quoted[0]}"
    return f"{plural} " + ", ".join(quoted[:-1]) + " and " + quoted[-1]


def sanitize_graph_name(name: str) -> str:
    value = re.sub(r"\W", "_", name)
    if re.match(r"^\d", value):
        value = "_" + value
    if re.search(r"_\d+$", value):
        value += "_"
    return value.upper()


class Merger:
    def __init__(self, subgraphs: list[Subgraph], facts: list[FederationFacts], join_minor: int) -> None:
        self.subgraphs = subgraphs
        self.facts = facts
        self.names = [s.name for s in subgraphs]
        self.join_minor = join_minor
        self.errors: list[str] = []
        self.model = SupergraphModel()
        self.enum_usage: dict[str, str] = {}  # enum name -> Input | Output | Both
        self.enum_example: dict[str, dict[str, str]] = {}
        self.graph_names = self._graph_enum_names()
        self.used_merged_directives = self._used_merged_directives()
        self.composed = self._composed_directives()
        self.kinds: dict[str, str] = {}
        self._access_control: dict[str, list[list[Applied]]] | None = None

    # -- setup ------------------------------------------------------------------------------------
    def _graph_enum_names(self) -> list[str]:
        sanitized = [sanitize_graph_name(n) for n in self.names]
        out = []
        for i, s in enumerate(sanitized):
            same = [j for j, other in enumerate(sanitized) if other == s]
            out.append(s if len(same) == 1 else f"{s}_{same.index(i) + 1}")
        return out

    def _used_merged_directives(self) -> list[str]:
        """Merged federation directives some subgraph applies, in Apollo's order (subgraph, then spec order)."""
        used: list[str] = []
        for sg in self.subgraphs:
            in_subgraph = {a.fed for a in _all_applied(sg) if a.fed in MERGED_DIRECTIVE_SPECS}
            used += [name for name in MERGED_DIRECTIVE_SPECS if name in in_subgraph and name not in used]
        return used

    def _composed_directives(self) -> dict[str, DirectiveDef]:
        composed: dict[str, DirectiveDef] = {}
        for sg in self.subgraphs:
            for name in sg.compose_directives:
                definition = sg.directive_defs.get(name)
                if definition is None:
                    self.errors.append(f'[{sg.name}] Could not find matching directive definition for argument to '
                                       f'@composeDirective "@{name}".')
                    continue
                composed[name] = definition  # the last subgraph's definition wins, like Apollo's "latest"
        return composed

    def is_merged_directive(self, applied: Applied) -> bool:
        if applied.fed is not None:
            return applied.fed in MERGED_DIRECTIVE_SPECS
        return applied.name in self.composed or applied.name in BUILTIN_DIRECTIVES

    # -- helpers ----------------------------------------------------------------------------------
    def _type_of(self, i: int, name: str) -> TypeDef | None:
        t = self.subgraphs[i].types.get(name)
        if t is None:
            return None
        kind = "INTERFACE" if self.subgraphs[i].is_interface_object(t) else t.kind
        return t if kind == self.kinds.get(name) else None

    def _sources(self, name: str) -> list[TypeDef | None]:
        return [self._type_of(i, name) for i in range(len(self.subgraphs))]

    def _direct_subtype(self, super_name: str, sub_name: str) -> bool:
        st = self.model.types.get(super_name)
        sub = self.model.types.get(sub_name)
        if st is None or sub is None:
            return False
        if st.kind == "UNION":
            return sub.kind == "OBJECT" and sub_name in st.members
        if st.kind == "INTERFACE":
            return sub.kind in ("OBJECT", "INTERFACE") and super_name in sub.interfaces
        return False

    # -- entry ------------------------------------------------------------------------------------
    def merge(self) -> SupergraphModel:
        self._add_types_shallow()
        if self.errors:
            return self.model
        for kind in ("OBJECT", "INTERFACE"):
            for t in self._of_kind(kind):
                self._merge_implements(t)
        for t in self._of_kind("UNION"):
            self._merge_union(t)
        for t in self._of_kind("UNION"):
            self._merge_type(t)
        self._merge_roots()
        for kind in ("SCALAR", "INPUT_OBJECT", "INTERFACE", "OBJECT"):
            for t in self._of_kind(kind):
                self._merge_type(t)
        self._merge_directive_definitions()
        for t in self._of_kind("ENUM"):
            self._merge_type(t)
        if "Query" not in self.model.types or not self.model.types["Query"].fields:
            self.errors.append("No queries found in any subgraph: a supergraph must have a query root type.")
        self._add_interface_object_fields_to_implementations()
        if not self.errors:
            self._post_merge_validations()
        return self.model

    def _of_kind(self, kind: str) -> list[SType]:
        return [t for t in list(self.model.types.values()) if t.kind == kind]

    def _add_types_shallow(self) -> None:
        """Create every type once, with the kind the first subgraph gives it; report kind conflicts."""
        labels: dict[str, dict[str, list[str]]] = {}  # type -> kind label -> subgraphs
        kinds_seen: dict[str, set[str]] = {}
        interface_objects: set[str] = set()
        for sg in self.subgraphs:
            for t in sg.types.values():
                is_itf_object = sg.is_interface_object(t)
                kind = "INTERFACE" if is_itf_object else t.kind
                if is_itf_object:
                    interface_objects.add(t.name)
                label = "Interface Object Type (Object Type with @interfaceObject)" if is_itf_object else KIND_LABEL[t.kind]
                labels.setdefault(t.name, {}).setdefault(label, []).append(sg.name)
                kinds_seen.setdefault(t.name, set()).add(kind)
                if t.name not in self.model.types:
                    self.model.types[t.name] = SType(t.name, kind)
                    self.kinds[t.name] = kind
        for name, by_label in labels.items():
            if len(kinds_seen[name]) > 1:
                parts = [f"{label} in {human_list(subs)}" for label, subs in by_label.items()]
                self.errors.append(f'Type "{name}" has mismatched kind: it is defined as ' + " but ".join(parts))
        for name in interface_objects:
            if not any(sg.types.get(name) is not None and sg.types[name].kind == "INTERFACE" for sg in self.subgraphs):
                defining = [sg.name for sg in self.subgraphs if name in sg.types]
                self.errors.append(f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is '
                                   f"defined (it is defined in {human_list(defining)} but should be defined as an "
                                   "interface in at least one subgraph)")

    def _merge_implements(self, dest: SType) -> None:
        for i, source in enumerate(self._sources(dest.name)):
            if source is None:
                continue
            for itf in source.interfaces:
                dest.directives.append(SApplied("join__implements", [("graph", self.graph_names[i]), ("interface", gql_string(itf))]))
                if itf not in dest.interfaces:
                    dest.interfaces.append(itf)

    def _merge_union(self, dest: SType) -> None:
        sources = self._sources(dest.name)
        for source in sources:
            if source is not None:
                for m in source.members:
                    if m not in dest.members:
                        dest.members.append(m)

    def _merge_roots(self) -> None:
        for op in ("query", "mutation", "subscription"):
            for sg in self.subgraphs:
                if op in sg.roots:
                    self.model.roots[op] = sg.roots[op]
                    break
        merged = [d for sg in self.subgraphs for d in sg.schema_directives if self.is_merged_directive(d)]
        self.model.schema_directives = _dedupe([SApplied(d.name, list(d.printed_args())) for d in merged])

    # -- types ------------------------------------------------------------------------------------
    def _merge_type(self, dest: SType) -> None:
        sources = self._sources(dest.name)
        self._check_extension_with_no_base(sources, dest)
        dest.description = merge_description([s.description if s else None for s in sources])
        self._add_join_type(sources, dest)
        extra = self._access_control_extra(dest.name) if dest.kind == "INTERFACE" else None
        dest.directives += self._merge_applied(
            [self._prefixed_contexts(i, s.directives) if s else None for i, s in enumerate(sources)], extra)
        if dest.kind == "UNION":
            for member in dest.members:
                for i, s in enumerate(sources):
                    if s is not None and member in s.members:
                        dest.directives.append(SApplied("join__unionMember", [("graph", self.graph_names[i]), ("member", gql_string(member))]))
        elif dest.kind == "OBJECT":
            self._merge_object(sources, dest)
        elif dest.kind == "INTERFACE":
            self._merge_interface(sources, dest)
        elif dest.kind == "ENUM":
            self._merge_enum(sources, dest)
        elif dest.kind == "INPUT_OBJECT":
            self._merge_input(sources, dest)

    def _check_extension_with_no_base(self, sources: list[TypeDef | None], dest: SType) -> None:
        if dest.kind == "OBJECT" and dest.name in self.model.roots.values():
            return
        defined = [i for i, s in enumerate(sources) if s is not None and s.has_definition]
        extended = [i for i, s in enumerate(sources) if s is not None and s.has_extension]
        if extended and not defined:
            for i in extended:
                self.errors.append(f'[{self.names[i]}] Type "{dest.name}" is an extension type, but there is no type '
                                   f'definition for "{dest.name}" in any subgraph.')

    def _add_join_type(self, sources: list[TypeDef | None], dest: SType) -> None:
        for i, source in enumerate(sources):
            if source is None:
                continue
            graph = [("graph", self.graph_names[i])]
            is_itf_object = [("isInterfaceObject", "true")] if self.subgraphs[i].is_interface_object(source) else []
            keys = source.all_of("key")
            if not keys:
                dest.directives.append(SApplied("join__type", graph + is_itf_object))
                continue
            for key in keys:
                args = graph + [("key", gql_string(key.string_arg("fields") or ""))]
                if key.on_extension or source.has("extends"):
                    args.append(("extension", "true"))
                if "resolvable" in key.args:
                    args.append(("resolvable", print_ast(key.args["resolvable"])))
                dest.directives.append(SApplied("join__type", args + is_itf_object))

    def _fields_shallow(self, sources: list[TypeDef | None], dest: SType) -> dict[str, list[FieldDef | None]]:
        added: dict[str, list[FieldDef | None]] = {}
        for i, source in enumerate(sources):
            if source is None:
                continue
            for f in source.fields.values():
                if f.name not in dest.fields:
                    dest.fields[f.name] = SField(f.name)
                added.setdefault(f.name, [None] * len(self.subgraphs))[i] = f
        return added

    def _merge_object(self, sources: list[TypeDef | None], dest: SType) -> None:
        added = self._fields_shallow(sources, dest)
        if not added:
            del self.model.types[dest.name]
            return
        for name, field_sources in added.items():
            context = validate_override(self, sources, field_sources, dest, name)
            self._merge_field(sources, field_sources, dest, dest.fields[name], context)
            self._validate_field_sharing(field_sources, dest, name, context)

    def _merge_interface(self, sources: list[TypeDef | None], dest: SType) -> None:
        self._validate_interface_keys(sources, dest)
        self._validate_interface_objects(sources, dest)
        added = self._fields_shallow(sources, dest)
        for name, field_sources in added.items():
            context = validate_override(self, sources, field_sources, dest, name)
            self._merge_field(sources, field_sources, dest, dest.fields[name], context)

    def _implementations(self, interface: str) -> list[str]:
        return [t.name for t in self.model.types.values() if t.kind == "OBJECT" and interface in t.interfaces]

    def _validate_interface_keys(self, sources: list[TypeDef | None], dest: SType) -> None:
        supergraph_impls = self._implementations(dest.name)
        for i, source in enumerate(sources):
            if source is None or source.kind != "INTERFACE":
                continue
            resolvable = [k for k in source.all_of("key") if k.bool_arg("resolvable", True)]
            if not resolvable:
                continue
            local = {t.name for t in self.subgraphs[i].implementations(dest.name)}
            missing = [n for n in supergraph_impls if n not in local]
            if missing:
                self.errors.append(f'[{self.names[i]}] Interface type "{dest.name}" has a resolvable key in subgraph '
                                   f'"{self.names[i]}" but that subgraph is missing some of the supergraph implementation '
                                   f'types of "{dest.name}". Subgraph "{self.names[i]}" should define '
                                   + ", ".join(f'type "{n}"' for n in missing) + f' (and have them implement "{dest.name}").')

    def _validate_interface_objects(self, sources: list[TypeDef | None], dest: SType) -> None:
        impls = self._implementations(dest.name)
        for i, source in enumerate(sources):
            if source is None or not self.subgraphs[i].is_interface_object(source):
                continue
            defined = [n for n in impls if n in self.subgraphs[i].types]
            if defined:
                self.errors.append(f'[{self.names[i]}] Interface type "{dest.name}" is defined as an @interfaceObject in '
                                   f'subgraph "{self.names[i]}" so that subgraph should not define any of the '
                                   f'implementation types of "{dest.name}", but it defines '
                                   + ", ".join(f'type "{n}"' for n in defined))

    # -- fields -----------------------------------------------------------------------------------
    def _itf_object_fields(self, dest: SType, field_name: str, i: int) -> list[tuple[TypeDef, FieldDef]]:
        """Fields of @interfaceObject types in subgraph i that stand for `dest.field_name` (dest absent there)."""
        sg = self.subgraphs[i]
        if dest.kind != "OBJECT" or dest.name in sg.types:
            return []
        out = []
        for itf in dest.interfaces:
            itf_type = self.model.types.get(itf)
            if itf_type is None or field_name not in itf_type.fields:
                continue
            local = sg.types.get(itf)
            if local is not None and local.kind == "OBJECT" and field_name in local.fields:
                out.append((local, local.fields[field_name]))
        return out

    def _is_external(self, i: int, parent: str, f: FieldDef) -> bool:
        return self.facts[i].is_external_coord((parent, f.name))

    def _merge_field(self, parents: list[TypeDef | None], sources: list[FieldDef | None], dest_type: SType,
                     dest: SField, context: FieldContext) -> None:
        coordinate = f"{dest_type.name}.{dest.name}"
        every_external = True
        for i, s in enumerate(sources):
            if s is None:
                every_external = every_external and all(
                    self.facts[i].is_external(t, f) for t, f in self._itf_object_fields(dest_type, dest.name, i))
            else:
                every_external = every_external and self._is_external(i, dest_type.name, s)
        if every_external:
            defining = [self.names[i] for i, s in enumerate(sources) if s is not None]
            self.errors.append(f'Field "{coordinate}" is marked @external on all the subgraphs in which it is listed '
                               f"({human_list(defining)}).")
            return
        without_external = [None if s is None or self._is_external(i, dest_type.name, s) else s
                            for i, s in enumerate(sources)]
        for i, s in enumerate(sources):
            if s is not None and without_external[i] is None:
                for d in s.directives:
                    if self.is_merged_directive(d):
                        self.errors.append(f'[{self.names[i]}] Cannot apply merged directive @{d.name} to external '
                                           f'field "{coordinate}"')
        if any(s is not None for s in without_external):
            dest.description = merge_description([s.description if s else None for s in without_external])
            dest.directives += self._merge_applied([s.directives if s else None for s in without_external],
                                                   self._access_control_extra(coordinate))
            self._merge_arguments([s.args if s else None for s in without_external], dest.args, coordinate)
        type_sources = without_external if any(s is not None for s in without_external) else sources
        all_types_equal = self._merge_type_reference([s.type if s else None for s in type_sources], dest, coordinate,
                                                     "field", input_position=False)
        if any(s is not None and self._is_external(i, dest_type.name, s) for i, s in enumerate(sources)):
            for i, s in enumerate(sources):
                if s is not None and self._is_external(i, dest_type.name, s) and s.type != dest.type and not (
                        not all_types_equal and is_strict_subtype(dest.type, s.type, self._direct_subtype)):
                    self.errors.append(f'Type of field "{coordinate}" is incompatible across subgraphs (where marked '
                                       f'@external): it has type "{dest.type}" in the supergraph but type "{s.type}" in '
                                       f'subgraph "{self.names[i]}"')
        self._add_join_field(sources, dest_type.name, dest, all_types_equal, context)

    def _needs_join_field(self, sources: list[FieldDef | None], parent: str, all_types_equal: bool,
                          context: FieldContext) -> bool:
        if not all_types_equal or context.used_overridden or context.labels:
            return True
        if any(s is not None and any(a.from_context() for a in s.args.values()) for s in sources):
            return True
        for i, s in enumerate(sources):
            if s is not None and i not in context.unused_overridden:
                if self._is_external(i, parent, s) or s.has("provides") or s.has("requires"):
                    return True
            elif parent in self.subgraphs[i].types:
                return True
        return False

    def _add_join_field(self, sources: list[FieldDef | None], parent: str, dest: SField, all_types_equal: bool,
                        context: FieldContext) -> None:
        if not self._needs_join_field(sources, parent, all_types_equal, context):
            return
        for i, s in enumerate(sources):
            label = context.labels.get(i)
            if s is None or (i in context.unused_overridden and label is None):
                continue
            args = [("graph", self.graph_names[i])]
            for fed in ("requires", "provides"):
                d = s.first(fed)
                if d is not None:
                    args.append((fed, gql_string(d.string_arg("fields") or "")))
            if not all_types_equal:
                args.append(("type", gql_string(s.type)))
            if self._is_external(i, parent, s):
                args.append(("external", "true"))
            override = [d for d in s.directives if d.fed == "override"]
            if override:
                args.append(("override", gql_string(override[-1].string_arg("from") or "")))
            if i in context.used_overridden:
                args.append(("usedOverridden", "true"))
            if label is not None and self.join_minor >= 4:
                args.append(("overrideLabel", gql_string(label)))
            contextual = [self._context_argument(i, a) for a in s.args.values() if a.from_context()]
            if contextual and self.join_minor >= 5:
                args.append(("contextArguments", "[" + ", ".join(contextual) + "]"))
            dest.directives.append(SApplied("join__field", args))

    def _context_argument(self, i: int, arg: ArgDef) -> str:
        """One join__ContextArgument: which context (prefixed by subgraph), argument, type and selection."""
        applied = arg.from_context()
        assert applied is not None
        context, selection = parse_context(applied.string_arg("field") or "")
        return (f'{{context: {gql_string(f"{self.names[i]}__{context}")}, name: {gql_string(arg.name)}, '
                f"type: {gql_string(arg.type)}, selection: {gql_string(selection)}}}")

    def _validate_field_sharing(self, sources: list[FieldDef | None], dest: SType, name: str,
                                context: FieldContext) -> None:
        shareable: list[str] = []
        non_shareable: list[str] = []
        resolving: list[str] = []
        for i, s in enumerate(sources):
            candidates: list[tuple[TypeDef, FieldDef, str]] = []
            if s is None:
                for t, f in self._itf_object_fields(dest, name, i):
                    candidates.append((t, f, f'{self.names[i]}" (through @interfaceObject field "{t.name}.{f.name}'))
            elif i in context.used_overridden or i in context.unused_overridden:
                continue
            else:
                parent = self.subgraphs[i].types[dest.name]
                candidates.append((parent, s, self.names[i]))
            for t, f, label in candidates:
                if self.facts[i].is_fully_external(t, f):
                    continue
                resolving.append(label)
                (shareable if self.facts[i].is_shareable(t, f) else non_shareable).append(label)
        if non_shareable and (shareable or len(non_shareable) > 1):
            which = human_list(non_shareable) if shareable else "all of them"
            hint = ""
            unknown = [self.names[i] for i in context.unknown_target]
            if unknown:
                hint = (f' (please note that "{dest.name}.{name}" has an @override directive in {human_list(unknown)} '
                        "that targets an unknown subgraph so this could be due to misspelling the @override(from:) argument)")
            self.errors.append(f'Non-shareable field "{dest.name}.{name}" is resolved from multiple subgraphs: it is '
                               f"resolved from {human_list(resolving)} and defined as non-shareable in {which}{hint}")

    def _merge_type_reference(self, types: list[str | None], dest: SField | SArg, coordinate: str, element: str,
                              input_position: bool) -> bool:
        dest_type: str | None = None
        has_subtypes = False
        incompatible = False
        for t in types:
            if t is None:
                continue
            if dest_type is None or dest_type == t:
                dest_type = t
            elif is_strict_subtype(dest_type, t, self._direct_subtype):
                has_subtypes = True
                if input_position:
                    dest_type = t
            elif is_strict_subtype(t, dest_type, self._direct_subtype):
                has_subtypes = True
                if not input_position:
                    dest_type = t
            else:
                incompatible = True
        assert dest_type is not None
        dest.type = dest_type
        base = named_type(dest_type)
        if self.kinds.get(base) == "ENUM":
            position = "Input" if input_position else "Output"
            existing = self.enum_usage.get(base)
            self.enum_usage[base] = position if existing in (None, position) else "Both"
            self.enum_example.setdefault(base, {}).setdefault(position, coordinate)
        if incompatible:
            described = [f'type "{t}" in subgraph "{self.names[i]}"' for i, t in enumerate(types) if t is not None]
            self.errors.append(f'Type of {element} "{coordinate}" is incompatible across subgraphs: it has '
                               + " but ".join(described))
            return False
        return not has_subtypes

    def _merge_arguments(self, sources: list[dict[str, ArgDef] | None], dest: dict[str, SArg], coordinate: str) -> None:
        names: list[str] = []
        for args in sources:
            for name in args or {}:
                if name not in names:
                    names.append(name)
        for name in names:
            if any(args is not None and name in args and args[name].from_context() for args in sources):
                continue  # contextual: filled from an ancestor's @context, never asked of the client
            missing = [self.names[i] for i, args in enumerate(sources) if args is not None and name not in args]
            if missing:
                required = [self.names[i] for i, args in enumerate(sources)
                            if args is not None and name in args and is_non_null(args[name].type) and args[name].default is None]
                if required:
                    self.errors.append(f'Argument "{coordinate}({name}:)" is required in some subgraphs but does not '
                                       f"appear in all subgraphs: it is required in {human_list(required)} but does not "
                                       f"appear in {human_list(missing)}")
                continue
            arg_sources = [args.get(name) if args is not None else None for args in sources]
            dest[name] = self._merge_argument(arg_sources, f"{coordinate}({name}:)", name)

    def _merge_argument(self, sources: list[ArgDef | None], coordinate: str, name: str) -> SArg:
        arg = SArg(name)
        arg.description = merge_description([a.description if a else None for a in sources])
        arg.directives = self._merge_applied([a.directives if a else None for a in sources])
        self._merge_type_reference([a.type if a else None for a in sources], arg, coordinate, "argument", True)
        arg.default = self._merge_default([a.default if a else None for a in sources], [a is not None for a in sources],
                                          f'Argument "{coordinate}"')
        return arg

    def _merge_default(self, defaults: list, present: list[bool], label: str) -> str | None:
        printed = [print_ast(d) if d is not None else None for d in defaults]
        seen = [p for p, ok in zip(printed, present) if ok]
        values = {p for p in seen if p is not None}
        if len(values) > 1:
            described = [(f"default value {p}" if p is not None else "no default value") + f' in subgraph "{self.names[i]}"'
                         for i, (p, ok) in enumerate(zip(printed, present)) if ok]
            self.errors.append(f"{label} has incompatible default values across subgraphs: it has " + " but ".join(described))
            return None
        if values and None in seen:
            return None  # a default in only some subgraphs: the supergraph has none
        return next(iter(values), None)

    # -- inputs and enums -------------------------------------------------------------------------
    def _merge_input(self, sources: list[TypeDef | None], dest: SType) -> None:
        added = self._fields_shallow(sources, dest)
        for name, field_sources in added.items():
            field = dest.fields[name]
            coordinate = f"{dest.name}.{name}"
            field.description = merge_description([f.description if f else None for f in field_sources])
            field.directives = self._merge_applied([f.directives if f else None for f in field_sources])
            all_equal = self._merge_type_reference([f.type if f else None for f in field_sources], field, coordinate,
                                                   "field", True)
            self._add_join_field(field_sources, dest.name, field, all_equal, FieldContext())
            field.default = self._merge_default([f.default if f else None for f in field_sources],
                                                [f is not None for f in field_sources], f'Input field "{coordinate}"')
            missing = [self.names[i] for i, s in enumerate(sources) if s is not None and field_sources[i] is None]
            if missing and not any(d.name == "inaccessible" for d in field.directives):
                required = [self.names[i] for i, f in enumerate(field_sources)
                            if f is not None and is_non_null(f.type) and f.default is None]
                if required:
                    self.errors.append(f'Input object field "{coordinate}" is required in some subgraphs but does not '
                                       f"appear in all subgraphs: it is required in {human_list(required)} but does not "
                                       f"appear in {human_list(missing)}")
                del dest.fields[name]
        if not dest.fields:
            self.errors.append(f'None of the fields of input object type "{dest.name}" are consistently defined in all '
                               "the subgraphs defining that type. As only fields common to all subgraphs are merged, "
                               "this would result in an empty type.")

    def _merge_enum(self, sources: list[TypeDef | None], dest: SType) -> None:
        usage = self.enum_usage.get(dest.name, "Output")
        for s in sources:
            for v in (s.values if s else {}):
                if v not in dest.values:
                    dest.values[v] = SEnumValue(v)
        for name in list(dest.values):
            value = dest.values[name]
            value_sources: list[EnumValueDef | None] = [s.values.get(name) if s else None for s in sources]
            value.description = merge_description([v.description if v else None for v in value_sources])
            value.directives = self._merge_applied([v.directives if v else None for v in value_sources])
            for i, v in enumerate(value_sources):
                if v is not None:
                    value.directives.append(SApplied("join__enumValue", [("graph", self.graph_names[i])]))
            inaccessible = any(d.name == "inaccessible" for d in value.directives)
            missing = [self.names[i] for i, s in enumerate(sources) if s is not None and name not in s.values]
            if not inaccessible and usage != "Output" and missing:
                if usage == "Both":
                    examples = self.enum_example.get(dest.name, {})
                    defining = [self.names[i] for i, s in enumerate(sources) if s is not None and name in s.values]
                    self.errors.append(f'Enum type "{dest.name}" is used as both input type (for example, as type of '
                                       f'"{examples.get("Input")}") and output type (for example, as type of '
                                       f'"{examples.get("Output")}"), but value "{name}" is not defined in all the '
                                       f'subgraphs defining "{dest.name}": "{name}" is defined in {human_list(defining)} '
                                       f"but not in {human_list(missing)}")
                else:
                    del dest.values[name]
        if not dest.values:
            self.errors.append(f'None of the values of enum type "{dest.name}" are defined consistently in all the '
                               "subgraphs defining that type. As only values common to all subgraphs are merged, this "
                               "would result in an empty type.")

    # -- directives -------------------------------------------------------------------------------
    def _merge_applied(self, per_source: list[list[Applied] | None],
                       extra: dict[str, list[list[Applied]]] | None = None) -> list[SApplied]:
        """Carry merged directives over; `extra` adds sources per directive name (access control inherited
        by interfaces from their implementations)."""
        by_name: dict[str, list[list[Applied]]] = {}
        for applied in per_source:
            for d in applied or ():
                if self.is_merged_directive(d):
                    by_name.setdefault(d.name, [])
        for name, lists in (extra or {}).items():
            if lists:
                by_name.setdefault(name, [])
        out: list[SApplied] = []
        for name in by_name:
            sources = [a for a in per_source if a] + list((extra or {}).get(name, []))
            apps = [[d for d in applied if d.name == name] for applied in sources]
            apps = [a for a in apps if a]
            if self._is_repeatable(name):
                out += _dedupe([SApplied(name, list(d.printed_args())) for a in apps for d in a])
                continue
            distinct: list[SApplied] = []
            counts: list[int] = []
            for a in apps:
                candidate = SApplied(name, list(a[0].printed_args()))
                keys = [x.key() for x in distinct]
                if candidate.key() in keys:
                    counts[keys.index(candidate.key())] += 1
                else:
                    distinct.append(candidate)
                    counts.append(1)
            if len(distinct) > 1 and name in MERGEABLE:
                out.append(SApplied(name, merge_arguments(name, [a[0] for a in apps])))
            else:
                out.append(distinct[counts.index(max(counts))])
        # @inaccessible first, then the rest in first-seen order (Apollo's printing order)
        return sorted(out, key=lambda d: 0 if d.name == "inaccessible" else 1)

    def _access_control_extra(self, key: str) -> dict[str, list[list[Applied]]]:
        """Access-control directives an interface (or interface field) inherits from its implementations."""
        if self._access_control is None:
            self._access_control = collect_access_control(self.subgraphs, self.facts, self.model)
        return {name: self._access_control.get(f"{key}_{name}", []) for name in ACCESS_CONTROL}

    def _prefixed_contexts(self, i: int, directives: list[Applied]) -> list[Applied]:
        """`@context(name:)` names are per subgraph: the supergraph prefixes them with the subgraph name."""
        out = []
        for d in directives:
            if d.fed == "context" and d.string_arg("name") is not None:
                d = Applied(d.name, {"name": StringValueNode(value=f"{self.names[i]}__{d.string_arg('name')}")},
                            d.on_extension, d.fed)
            out.append(d)
        return out

    def _is_repeatable(self, name: str) -> bool:
        if name in ("tag", "context"):
            return True
        if name in self.composed:
            return self.composed[name].repeatable
        return False

    def _merge_directive_definitions(self) -> None:
        for name, definition in self.composed.items():
            self.model.directive_defs[name] = self._directive_def(
                definition, [sg.directive_defs.get(name) for sg in self.subgraphs], definition.locations,
                definition.repeatable)
        names: list[str] = []
        for sg in self.subgraphs:
            for d in sg.directive_defs.values():
                if d.name not in self.composed and d.name not in names and d.name not in BUILTIN_DIRECTIVES \
                        and any(loc in EXECUTABLE_LOCATIONS for loc in d.locations):
                    names.append(d.name)
        for name in names:
            defs = [sg.directive_defs.get(name) for sg in self.subgraphs]
            if any(d is None for d in defs):
                continue  # executable directives must exist in every subgraph
            locations: list[str] | None = None
            for d in defs:
                assert d is not None
                own = sorted(loc for loc in d.locations if loc in EXECUTABLE_LOCATIONS)
                locations = own if locations is None else [loc for loc in locations if loc in own]
            if not locations:
                continue
            repeatable = all(d.repeatable for d in defs if d is not None)
            first = defs[0]
            assert first is not None
            self.model.directive_defs[name] = self._directive_def(first, defs, locations, repeatable)

    def _directive_def(self, definition: DirectiveDef, defs: list[DirectiveDef | None], locations: list[str],
                       repeatable: bool) -> SDirectiveDef:
        out = SDirectiveDef(definition.name, locations=list(locations), repeatable=repeatable)
        out.description = merge_description([d.description if d else None for d in defs])
        args: dict[str, SArg] = {}
        self._merge_arguments([d.args if d else None for d in defs], args, f"@{definition.name}")
        out.args = args
        return out

    # -- after merging ----------------------------------------------------------------------------
    def _add_interface_object_fields_to_implementations(self) -> None:
        for t in list(self.model.types.values()):
            if t.kind != "OBJECT":
                continue
            for itf_name in t.interfaces:
                itf = self.model.types.get(itf_name)
                if itf is None:
                    continue
                for itf_field in itf.fields.values():
                    if itf_field.name in t.fields or not self._provided_by_interface_object(itf_field.name, itf_name):
                        continue
                    t.fields[itf_field.name] = SField(
                        name=itf_field.name, type=itf_field.type, args=dict(itf_field.args),
                        description=itf_field.description,
                        directives=[d for d in itf_field.directives if not d.name.startswith("join__")]
                        + [SApplied("join__field")],
                    )

    def _provided_by_interface_object(self, field_name: str, interface: str) -> bool:
        for i, sg in enumerate(self.subgraphs):
            t = sg.types.get(interface)
            if t is not None and sg.is_interface_object(t) and field_name in t.fields:
                if not self.facts[i].is_external(t, t.fields[field_name]):
                    return True
        return False

    def _post_merge_validations(self) -> None:
        for t in self.model.types.values():
            if t.kind not in ("OBJECT", "INTERFACE"):
                continue
            for itf_name in t.interfaces:
                itf = self.model.types.get(itf_name)
                if itf is None:
                    continue
                for name in itf.fields:
                    if name not in t.fields:
                        declaring = [sg.name for sg in self.subgraphs if sg.types.get(itf_name) is not None
                                     and sg.types[itf_name].kind == "INTERFACE" and name in sg.types[itf_name].fields]
                        implementing = [sg.name for sg in self.subgraphs if sg.types.get(t.name) is not None
                                        and itf_name in sg.types[t.name].interfaces]
                        self.errors.append(f'Interface field "{itf_name}.{name}" is declared in {human_list(declaring)} '
                                           f'but type "{t.name}", which implements "{itf_name}" only in '
                                           f'{human_list(implementing)} does not have field "{name}".')


def merge_description(descriptions: list[str | None]) -> str | None:
    """The description most subgraphs agree on; an empty one only when there is nothing else."""
    present = [d for d in descriptions if d is not None]
    if not present:
        return None
    distinct = list(dict.fromkeys(present))
    if len(distinct) == 1:
        return distinct[0]
    non_empty = [d for d in distinct if d != ""]
    if len(non_empty) == 1:
        return non_empty[0]
    counts = [present.count(d) for d in non_empty]
    return non_empty[counts.index(max(counts))]


def _dedupe(applied: list[SApplied]) -> list[SApplied]:
    seen: set = set()
    out = []
    for a in applied:
        if a.key() not in seen:
            seen.add(a.key())
            out.append(a)
    return out


def _all_applied(sg: Subgraph):
    yield from sg.schema_directives
    for t in sg.types.values():
        yield from t.directives
        for f in t.fields.values():
            yield from f.directives
            for a in f.args.values():
                yield from a.directives
        for v in t.values.values():
            yield from v.directives

