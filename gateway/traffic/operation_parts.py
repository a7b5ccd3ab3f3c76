"""The two things every traffic engine reads from a validated document: the chosen operation and the
fragments by name."""

from __future__ import annotations

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode


def operation_parts(document: DocumentNode, operation_name: str | None
                    ) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    """(the operation `operation_name` names — or the only one — or None, fragments by name)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if operation_name is None:
        return (operations[0] if len(operations) == 1 else None), fragments
    chosen = next((o for o in operations if o.name is not None and o.name.value == operation_name), None)
    return chosen, fragments
