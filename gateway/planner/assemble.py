"""Turn filled fetch groups into plan nodes: operation text, dependency levels, Sequence/Parallel."""

from __future__ import annotations

from gateway.planner.fetch_selection import flat_fields
from gateway.planner.groups import FetchGroup
from gateway.planner.nodes import Fetch, Flatten, Parallel, PlanNode, Sequence


def fetch_for_group(group: FetchGroup, operation_kind: str, variable_definitions: dict[str, str]) -> Fetch:
    used = sorted(v for v in group.variables if v in variable_definitions)
    declared = [variable_definitions[v] for v in used]
    body = group.selection.print()
    if group.entity_type is None:
        head = operation_kind + (f"({', '.join(declared)})" if declared else "")
        operation = f"{head} {{ {body} }}"
        kind = operation_kind
    else:
        params = ", ".join(["$representations: [_Any!]!", *declared])
        operation = (f"query({params}) {{ _entities(representations: $representations) "
                     f"{{ ... on {group.entity_type} {{ {body} }} }} }}")
        kind = "query"
    return Fetch(
        subgraph=group.subgraph,
        operation=operation,
        variable_usages=used,
        operation_kind=kind,
        entity_type=group.entity_type,
        requires=group.requires,
        representation_typename=group.representation_typename,
        accepted_types=group.accepted_types,
        selection=group.selection,
        has_renames=group.selection.has_renames(),
        key_fields=frozenset(group.key_fields),
        flat_requires=flat_fields(group.requires),
        id=group.id,
    )


def levels(groups: list[FetchGroup]) -> dict[int, int]:
    level: dict[int, int] = {}
    by_id = {g.id: g for g in groups}

    def of(gid: int, stack: frozenset = frozenset()) -> int:
        if gid in level:
            return level[gid]
        if gid in stack:
            return 0  # a cycle would be a planner bug; never loop on it
        deps = [d for d in by_id[gid].deps if d != gid and d in by_id]
        value = 0 if not deps else 1 + max(of(d, stack | {gid}) for d in deps)
        level[gid] = value
        return value

    for g in groups:
        of(g.id)
    return level


def assemble(groups: list[FetchGroup], operation_kind: str, variable_definitions: dict[str, str]) -> PlanNode | None:
    live = [g for g in groups if not g.selection.is_empty()]
    if not live:
        return None
    level = levels(live)
    stages: list[list[PlanNode]] = []
    for g in sorted(live, key=lambda g: (level[g.id], g.id)):
        while len(stages) <= level[g.id]:
            stages.append([])
        fetch = fetch_for_group(g, operation_kind, variable_definitions)
        node: PlanNode = fetch if g.entity_type is None else Flatten(path=list(g.path), node=fetch)
        stages[level[g.id]].append(node)
    steps: list[PlanNode] = [s[0] if len(s) == 1 else Parallel(nodes=s) for s in stages if s]
    return steps[0] if len(steps) == 1 else Sequence(nodes=steps)
