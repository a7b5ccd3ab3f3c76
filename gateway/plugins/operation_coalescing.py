"""Operation coalescing as a plugin: identical queries in flight at the same moment run once.

Two requests share one execution when they have the same document, operation and variables and the same
caller (`principal_identity`: issuer, subject, municipality, roles, scopes, assurance — so the same
authorization outcome) or are both anonymous. Mutations, subscriptions and queries that may @defer never
share. The first request
(the leader) runs the plan; the others wait at `execution_start` and answer with a copy of its result.

If the leader goes away before it has a result (its client disconnected and its task was cancelled), its
followers are released and run the plan themselves: nobody waits on work that no longer happens.
Subgraph fetches are coalesced too, one level down (gateway/http/fetching.py).
"""

from __future__ import annotations

import asyncio
from typing import Any, Hashable

import orjson

from gateway.document import may_defer
from gateway.plugins.protocol import ExecutionEvent, OperationEvent, RequestState
from gateway.traffic.coalescing import operation_key, principal_identity
from gateway.traffic.rate_limit import CHEAP_ANSWER_NOTE

NOTE = "operation_coalescing"


class _Abandoned(Exception):
    """The leader ended without a result; a follower runs the plan itself."""


class OperationCoalescingPlugin:
    name = "operation_coalescing"

    def __init__(self) -> None:
        self.in_flight: dict[Hashable, asyncio.Future[bytes]] = {}
        self.executions = 0
        self.shared = 0

    @staticmethod
    def key(state: RequestState) -> Hashable | None:
        prepared = state.prepared
        return operation_key(prepared.text, prepared.name, dict(prepared.raw_variables), state.operation_type or "",
                             None, principal_identity(state.principal))

    async def operation(self, event: OperationEvent) -> None:
        """Tell the rate limit (next) that this request is likely to follow an identical one in flight."""
        state = event.state
        if CHEAP_ANSWER_NOTE in state.notes or not self.in_flight:
            return
        key = self.key(state)
        if key is not None and key in self.in_flight:
            state.notes[CHEAP_ANSWER_NOTE] = "coalesced"

    async def execution_start(self, state: RequestState) -> None:
        prepared = state.prepared
        if state.answer is not None or prepared is None:
            return  # answered already (e.g. from the response cache)
        if may_defer(prepared.analysis):
            return  # parts streamed to one client cannot be shared: @defer never coalesces
        key = self.key(state)
        if key is None:
            return
        leader = self.in_flight.get(key)
        if leader is None:
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self.in_flight[key] = future
            state.notes[NOTE] = (key, future)
            self.executions += 1
            task = asyncio.current_task()
            if task is not None:  # released if this request ends without reaching the execution hook
                task.add_done_callback(lambda _task: self._settle(key, future, None))
            return
        try:
            body = await asyncio.shield(leader)
        except _Abandoned:
            return
        self.shared += 1
        state.answer = orjson.loads(body)

    async def execution(self, event: ExecutionEvent) -> None:
        note = event.state.notes.pop(NOTE, None)
        if note is not None:
            key, future = note
            self._settle(key, future, orjson.dumps(event.result) if event.error is None and event.result else None)

    def _settle(self, key: Hashable, future: asyncio.Future[bytes], body: bytes | None) -> None:
        if self.in_flight.get(key) is future:
            del self.in_flight[key]
        if not future.done():
            if body is None:
                future.set_exception(_Abandoned())
                future.exception()  # retrieved here: followers may be none
            else:
                future.set_result(body)
