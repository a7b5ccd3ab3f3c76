"""Marks every answer to a trial caller: `extensions.coUse = {"sandbox": true, "trials": [...]}`.

The request already runs on the sandbox database (`subgraphs.common.sandbox`); this says so to the client, with
this platform's trial of the caller's municipality (its dates, whether it still runs). The gateway passes the
key through and merges it across subgraphs (`gateway/plugins/co_use_extensions.py`).
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from subgraphs.common.sandbox import is_trial


class TrialMarker(SchemaExtension):
    async def get_results(self) -> dict[str, Any]:  # type: ignore[override]
        ctx = self.execution_context.context
        principal = getattr(ctx, "principal", None)
        if not is_trial(principal) or getattr(ctx, "database", None) is None:
            return {}
        from subgraphs.common.trial import trials

        async with ctx.transaction() as session:
            found = await trials(session, ctx.subgraph, principal.municipality)
        return {"coUse": {"sandbox": True, "trials": [trial.as_extension() for trial in found]}}
