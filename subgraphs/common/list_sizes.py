"""`@listSize` for demand control (gateway/traffic/cost.py): a list field whose length its `limit` argument
bounds is costed at that limit (the argument's default when the client gives none), not at the gateway's
assumed list size."""

from __future__ import annotations

from strawberry.federation.schema_directives import ListSize

SIZED_BY_LIMIT = ListSize(slicing_arguments=["limit"], require_one_slicing_argument=False)
