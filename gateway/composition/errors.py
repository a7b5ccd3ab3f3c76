"""The one error type composition raises: every problem found, each naming subgraph, type and field."""

from __future__ import annotations


class CompositionError(Exception):
    """Composition failed; `errors` holds one clear message per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))
