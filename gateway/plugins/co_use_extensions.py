"""Pass the subgraphs' `extensions.coUse` through to the client, merged (trial use, issue 11 item 2).

The executor keeps a subgraph's `data` and `errors` and drops its response `extensions`, as Apollo Router does
by default: a subgraph's extensions can hold anything (timings, debug data) a client should not see. This
plugin lets exactly one key through, `coUse`, which the subgraphs set for a trial caller
(`subgraphs/common/trial_marker.py`): `{"sandbox": true, "trials": [{platform, municipality, startsOn, endsOn,
active}]}`. Several subgraphs answer one request: `sandbox` is true if any said so, `trials` is the union by
(platform, municipality). A principal with the `trial` role gets `coUse.sandbox = true` even when no subgraph
was asked (an answer from introspection alone), so every executed answer to a trial caller says it is one.
"""

from __future__ import annotations

from typing import Any

from gateway.plugins.protocol import ExecutionEvent, SubgraphResponse

EXTENSION = "coUse"
TRIAL_ROLE = "trial"   # subgraphs/common/sandbox.py


def merge_co_use(parts: list[dict[str, Any]]) -> dict[str, Any]:
    trials: dict[tuple[str, str], dict[str, Any]] = {}
    sandbox = False
    for part in parts:
        sandbox = sandbox or part.get("sandbox") is True
        for trial in part.get("trials") or ():
            if isinstance(trial, dict):
                trials[(str(trial.get("platform")), str(trial.get("municipality")))] = trial
    return {"sandbox": sandbox, "trials": [trials[key] for key in sorted(trials)]}


class CoUseExtensionsPlugin:
    name = "co_use_extensions"

    async def subgraph_response(self, event: SubgraphResponse) -> None:
        result = event.result
        extensions = result.get("extensions") if isinstance(result, dict) else None
        part = extensions.get(EXTENSION) if isinstance(extensions, dict) else None
        if isinstance(part, dict):
            event.request.state.notes.setdefault(self.name, []).append(part)

    async def execution(self, event: ExecutionEvent) -> None:
        parts: list[dict[str, Any]] = list(event.state.notes.get(self.name) or ())
        principal = event.state.principal
        if principal is not None and TRIAL_ROLE in getattr(principal, "roles", ()):
            parts.append({"sandbox": True})
        if not parts or event.result is None:
            return
        extensions = dict(event.result.get("extensions") or {})
        extensions[EXTENSION] = merge_co_use(parts)
        event.result["extensions"] = extensions
