"""Turn filled fetch groups into plan nodes: refinement passes, operation text, the dependency tree."""

from __future__ import annotations

from gateway.planner.errors import Deadline
from gateway.planner.groups import FetchGroup
from gateway.planner.dependency_tree import TreeItem, dependency_tree
from gateway.planner.nodes import Fetch, Flatten, PlanNode
from gateway.planner.refine import refine


def fetch_for_group(group: FetchGroup, operation_kind: str, variable_definitions: dict[str, str]) -> Fetch:
    # exactly the variables the printed selection reads (a subgraph refuses an unused declaration)
    used = sorted(v for v in group.selection.used_variables() if v in variable_definitions)
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
        variable_usages=tuple(used),
        operation_kind=kind,
        entity_type=group.entity_type,
        requires=group.requires.frozen() if group.requires is not None else None,
        representation_typename=group.representation_typename,
        accepted_types=group.accepted_types,
        key_fields=frozenset(group.key_fields),
        renames=group.selection.frozen() if group.selection.has_renames() else None,
        id=group.id,
    )


def assemble(groups: list[FetchGroup], operation_kind: str, variable_definitions: dict[str, str],
             deadline: Deadline | None = None) -> PlanNode | None:
    """Refine the groups, make each a Fetch (entity fetches under a Flatten), arrange them by dependency."""
    items: list[TreeItem] = []
    for g in refine(groups, deadline):
        fetch = fetch_for_group(g, operation_kind, variable_definitions)
        node: PlanNode = fetch if g.entity_type is None else Flatten(path=tuple(g.path), node=fetch)
        items.append(TreeItem(id=g.id, deps=frozenset(g.deps), node=node, conditions=g.conditions))
    return dependency_tree(items)
