"""compose(): subgraph SDLs in, supergraph SDL out (or CompositionError listing every problem)."""

from __future__ import annotations

import copy

from graphql import GraphQLError, build_ast_schema, parse

from gateway.composition.errors import CompositionError
from gateway.composition.fed1_upgrade import upgrade_fed1
from gateway.composition.federation_facts import FederationFacts
from gateway.composition.merger import Merger
from gateway.composition.printer import print_supergraph
from gateway.composition.satisfiability import Satisfiability
from gateway.composition.source import SubgraphSource
from gateway.composition.subgraph import Subgraph, SubgraphParseError, parse_subgraph
from gateway.composition.subgraph_validation import validate_subgraph
from gateway.composition.supergraph_model import SApplied, SEnumValue, SType, gql_string
from gateway.composition.supergraph_specs import (
    LINK_SDL, MERGED_DIRECTIVE_SPECS, definitions_from_sdl, join_sdl, spec_links,
)

RESERVED_SUBGRAPH_NAMES = ("_",)


def _join_minor(subgraphs: list[Subgraph]) -> int:
    # a Federation 1 subgraph is upgraded as if it linked federation v2.4
    versions = [sg.federation_version or (2, 4) for sg in subgraphs]
    highest = max(versions) if versions else (2, 14)
    if highest >= (2, 8):
        return 5
    if highest >= (2, 7):
        return 4
    return 3


def _parse_all(sources: list[SubgraphSource]) -> list[Subgraph]:
    errors: list[str] = []
    names: set[str] = set()
    subgraphs: list[Subgraph] = []
    for source in sources:
        if source.name in names:
            errors.append(f'A subgraph named "{source.name}" is listed more than once.')
            continue
        if source.name in RESERVED_SUBGRAPH_NAMES:
            errors.append(f'[{source.name}] Invalid name "{source.name}" for a subgraph: this name is reserved.')
            continue
        names.add(source.name)
        try:
            subgraphs.append(parse_subgraph(source))
        except SubgraphParseError as err:
            errors += err.messages
    if not sources:
        errors.append("No subgraphs to compose.")
    if errors:
        raise CompositionError(errors)
    # Apollo works on subgraphs sorted by name; the same order gives the same join__ directive order.
    return sorted(subgraphs, key=lambda sg: sg.name)


def _upgrade_and_validate(subgraphs: list[Subgraph]) -> list[FederationFacts]:
    errors: list[str] = []
    if not all(sg.is_fed2 for sg in subgraphs):
        # the upgrade of one subgraph reads the others as they were written
        originals = [copy.deepcopy(sg) for sg in subgraphs]
        original_facts = {sg.name: FederationFacts(sg) for sg in originals}
        for sg in subgraphs:
            if not sg.is_fed2:
                errors += upgrade_fed1(sg, originals, original_facts)
    facts = [FederationFacts(sg) for sg in subgraphs]
    for sg, sg_facts in zip(subgraphs, facts):
        errors += validate_subgraph(sg, sg_facts)
    if errors:
        raise CompositionError(errors)
    return facts


def compose(subgraphs: list[SubgraphSource]) -> str:
    """Compose subgraphs into an Apollo Federation 2 supergraph SDL."""
    parsed = _parse_all(subgraphs)
    join_minor = _join_minor(parsed)
    facts = _upgrade_and_validate(parsed)
    merger = Merger(parsed, facts, join_minor)
    model = merger.merge()
    if merger.errors:
        raise CompositionError(merger.errors)
    unsatisfiable = Satisfiability(parsed, facts, model).check()
    if unsatisfiable:
        raise CompositionError(unsatisfiable)

    model.links = [
        SApplied("link", [("url", gql_string("https://specs.apollo.dev/link/v1.0"))]),
        SApplied("link", [("url", gql_string(f"https://specs.apollo.dev/join/v0.{join_minor}")), ("for", "EXECUTION")]),
        *spec_links(merger.used_merged_directives),
    ]
    composed_links = _composed_links(parsed, set(merger.composed))
    model.links += composed_links
    spec_sdl = LINK_SDL + join_sdl(join_minor)
    for name in merger.used_merged_directives:
        spec_sdl += "\n" + MERGED_DIRECTIVE_SPECS[name][3]
    directives, types = definitions_from_sdl(spec_sdl)
    for d in directives:
        model.directive_defs.setdefault(d.name, d)
    for t in types:
        model.types.setdefault(t.name, t)
    model.types["join__Graph"] = SType("join__Graph", "ENUM", values={
        enum_name: SEnumValue(enum_name, [SApplied("join__graph", [("name", gql_string(sg.name)), ("url", gql_string(sg.url))])])
        for enum_name, sg in zip(merger.graph_names, parsed)
    })
    sdl = print_supergraph(model)
    try:
        build_ast_schema(parse(sdl))
    except (GraphQLError, TypeError) as err:
        raise CompositionError([f"The composed supergraph is not a valid schema: {err}"]) from None
    return sdl


def _composed_links(subgraphs: list[Subgraph], composed: set[str]) -> list[SApplied]:
    """`@link` for the specs whose custom directives are kept through `@composeDirective`."""
    by_url: dict[str, list[str]] = {}
    for sg in subgraphs:
        for link in sg.links:
            for name in composed:
                if "@" + name in link.imports.values() or link.local_directive_name(name) == name:
                    by_url.setdefault(link.url, [])
                    if name not in by_url[link.url]:
                        by_url[link.url].append(name)
    links = []
    for url, names in by_url.items():
        links.append(SApplied("link", [("url", gql_string(url)),
                                       ("import", "[" + ", ".join(gql_string("@" + n) for n in names) + "]")]))
    return links
