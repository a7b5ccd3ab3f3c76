"""Running a `Defer` plan: the primary part first, then each deferred fragment's part as it completes.

The answer is an `IncrementalResponse`: the initial payload (`{"data", "errors"?, "hasNext": true}`,
a dict every stage and plugin reads as usual) whose `subsequent` yields the later payloads in the
`deferSpec=20220824` shape: `{"incremental": [{"data", "path", "label"?, "errors"?}], "hasNext"}`.
The deferred parts' fetches start as soon as what they depend on is merged (the primary part, or the
part they are nested in), each with its own errors; a part is delivered when it completes, whatever
the plan's order. Each entry is one object the fragment applies to (one per list item), projected on
the client's selection with null propagation inside the entry: a non-null field that comes back null
makes that entry's `data` null, with its error, and leaves the other entries and parts alone.

A fragment whose `if` is false this time is no defer: its fetches run with the part before it and its
fields are delivered there. With no fragment deferred this time, the answer is a plain response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from graphql import InlineFragmentNode, SelectionSetNode

from gateway.document import (
    PreparedOperation,
    DeferredFragment,
    DeferSplit,
    defer_split,
    deferred_now,
    fragment_active,
    fragment_included,
    without_deferred,
)
from gateway.executor.fetcher import SubgraphFetcher
from gateway.executor.merge import deep_merge
from gateway.executor.projection import INVALID, ObjectShape, Projector, ShapeCompiler
from gateway.executor.representations import objects_with_paths, path_list
from gateway.planner import Defer, DeferredNode, QueryPlan
from gateway.supergraph.model import Supergraph

log = logging.getLogger("kyodo.gateway.executor")

JsonObject = dict[str, Any]


class IncrementalResponse(dict[str, Any]):
    """The initial payload of an incrementally delivered response; `subsequent` yields the rest.
    (A dict, so hooks, plugins and serializers read it as any response; only the HTTP stage streams.)"""

    def __init__(self, initial: Mapping[str, Any], subsequent: DeferredParts) -> None:
        super().__init__(initial)
        self.subsequent = subsequent

    def with_body(self, body: Mapping[str, Any]) -> IncrementalResponse:
        """The same stream behind another initial payload (the pipeline's final body)."""
        return IncrementalResponse({**body, "hasNext": True}, self.subsequent)


def delivers_incrementally(plan: QueryPlan, supergraph: Supergraph, operation: PreparedOperation) -> bool:
    """Whether this request's answer comes in parts (some fragment is deferred with these variables)."""
    if not isinstance(getattr(plan, "node", None), Defer):  # (a test's own planner may return anything)
        return False
    return bool(deferred_now(defer_split(supergraph.api_schema, operation.analysis), operation.variables))


def _drop_deferred(variables: Mapping[str, Any]) -> Any:
    """Which fragments a part's selection leaves out: those deferred this time and those not included."""
    return lambda f: not fragment_included(f, variables) or fragment_active(f, variables)


async def execute_incremental(node: Defer, supergraph: Supergraph, operation: PreparedOperation,
                              fetcher: SubgraphFetcher, compiled: Any, value_completion: str) -> dict[str, Any]:
    from gateway.executor.run import _Run  # (run.py dispatches here: imported late, no cycle)
    from gateway.introspection import introspection_data

    variables = operation.variables
    split = defer_split(supergraph.api_schema, operation.analysis)
    by_id = {f.id: f for f in split.all}
    primary = _Run(supergraph, variables, operation.raw_variables, fetcher, compiled.representations)
    await primary.run(node.primary)
    later = await _absorb(primary, node.deferred, by_id, variables)
    if operation.has_introspection:
        intro_data, intro_errors = introspection_data(supergraph.api_schema, operation)
        primary.data.update(intro_data)
        primary.errors.extend(intro_errors)
    root_type = supergraph.api_schema.get_root_type(operation.type)
    assert root_type is not None
    selection = without_deferred(operation.analysis.selection, split, _drop_deferred(variables))
    compiler = ShapeCompiler(supergraph.api_schema, variables, supergraph.schema)
    completion: list[JsonObject] | None = None if value_completion == "strict" else []
    error_paths = {tuple(e["path"]) for e in primary.errors if isinstance(e.get("path"), list)}
    projector = Projector(compiler, primary.errors, error_paths, completion)
    data = projector.project_object(ObjectShape(compiler.fields(root_type.name, (selection,))), root_type.name,
                                    primary.data, None)
    result: JsonObject = {"data": None if data is INVALID else data}
    if primary.errors:
        result["errors"] = primary.errors
    if completion:
        result["extensions"] = {"valueCompletion": completion}
    if not later:
        return result
    # what the client holds so far: where a deferred part may land (a copy: the initial payload is
    # serialized later and must not grow)
    delivered = orjson.loads(orjson.dumps(result["data"])) if result["data"] is not None else None
    parts = DeferredParts(primary, split, by_id, compiler, delivered, value_completion, compiled)
    parts.start(later)
    result["hasNext"] = True
    return IncrementalResponse(result, parts)


async def _absorb(run: Any, nodes: tuple[DeferredNode, ...], by_id: Mapping[int, DeferredFragment],
                  variables: Mapping[str, Any]) -> list[DeferredNode]:
    """Run, within `run`, the fragments not deferred this time; the deferred ones that follow it."""
    later: list[DeferredNode] = []
    for n in nodes:
        fragment = by_id[n.id]
        if not fragment_included(fragment, variables):
            continue
        if fragment_active(fragment, variables):
            later.append(n)
            continue
        await run.run(n.node)
        later.extend(await _absorb(run, n.deferred, by_id, variables))
    return later


class DeferredParts:
    """The deferred parts of one response: each runs as a task; payloads come out as they complete."""

    def __init__(self, primary: Any, split: DeferSplit, by_id: Mapping[int, DeferredFragment],
                 compiler: ShapeCompiler, delivered: Any, value_completion: str, compiled: Any) -> None:
        self.primary = primary
        self.split = split
        self.by_id = by_id
        self.compiler = compiler
        self.delivered = delivered
        self.value_completion = value_completion
        self.compiled = compiled
        self.queue: asyncio.Queue[JsonObject] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()
        self.pending = 0

    def start(self, nodes: list[DeferredNode]) -> None:
        for n in nodes:
            self._spawn(n)

    def _spawn(self, node: DeferredNode) -> None:
        self.pending += 1
        task = asyncio.get_running_loop().create_task(self._part(node))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _part(self, node: DeferredNode) -> None:
        from gateway.executor.run import _Run

        fragment = self.by_id[node.id]
        primary = self.primary
        run = _Run(primary.sg, primary.variables, primary.raw_variables, primary.fetcher,
                   self.compiled.representations)
        run.data = primary.data  # one merged tree: a part's fetches read the keys the parts before left
        entries: list[JsonObject] = []
        later: list[DeferredNode] = []
        try:
            await run.run(node.node)
            later = await _absorb(run, node.deferred, self.by_id, primary.variables)
            entries = self._entries(fragment, run.errors)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one part failing must not end the others
            log.exception("deferred fragment %s failed", fragment.label or fragment.id)
            entries = [{"data": None, "path": path_list(chain),
                        "errors": [{"message": "The gateway failed to execute this deferred fragment.",
                                    "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
                       for _obj, chain in objects_with_paths(primary.data, fragment.path)][:1]
        for n in later:
            self._spawn(n)  # nested parts follow this one
        self.pending -= 1
        self.queue.put_nowait({"incremental": entries, "hasNext": self.pending > 0})

    def _entries(self, fragment: DeferredFragment, errors: list[JsonObject]) -> list[JsonObject]:
        variables = self.primary.variables
        compiler = self.compiler
        inner = without_deferred(fragment.node.selection_set, self.split, _drop_deferred(variables))
        selection = SelectionSetNode(selections=(
            InlineFragmentNode(type_condition=fragment.node.type_condition, directives=(), selection_set=inner),))
        completion: list[JsonObject] | None = None if self.value_completion == "strict" else []
        error_paths = {tuple(e["path"]) for e in errors if isinstance(e.get("path"), list)}
        projector = Projector(compiler, errors, error_paths, completion)
        shapes: dict[str, ObjectShape] = {}
        entries: list[JsonObject] = []
        for obj, chain in objects_with_paths(self.primary.data, fragment.path):
            at = path_list(chain)
            target = _value_at(self.delivered, at)
            if type(target) is not dict:
                continue  # the object is null (or gone) in what the client has: nothing to complete
            runtime = obj.get("__typename") or fragment.parent_type
            if not isinstance(runtime, str) or not compiler._applies(fragment.type_condition, runtime):
                continue
            shape = shapes.get(runtime)
            if shape is None:
                shape = shapes[runtime] = ObjectShape(compiler.fields(runtime, (selection,)))
            data = projector.project_object(shape, runtime, obj, chain)
            entry: JsonObject = {"data": None if data is INVALID else data, "path": at}
            if fragment.label is not None:
                entry["label"] = fragment.label
            entries.append(entry)
            if data is not INVALID:
                deep_merge(target, orjson.loads(orjson.dumps(data)))
        _place(entries, errors, "errors")
        if completion:
            _place(entries, completion, "valueCompletion")
        return entries

    async def payloads(self) -> AsyncIterator[JsonObject]:
        """The later payloads, as parts complete (those completing together come as one payload)."""
        try:
            while True:
                payload = await self.queue.get()
                while not self.queue.empty() and payload["hasNext"]:
                    more = self.queue.get_nowait()
                    payload = {"incremental": payload["incremental"] + more["incremental"],
                               "hasNext": more["hasNext"]}
                if not payload["incremental"]:
                    if payload["hasNext"]:
                        continue  # (a part with nothing to deliver: its objects were null)
                    yield {"hasNext": False}
                    return
                yield payload
                if not payload["hasNext"]:
                    return
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop the parts still running (the client went away)."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def _value_at(data: Any, path: list[str | int]) -> Any:
    for key in path:
        if type(data) is dict and isinstance(key, str):
            data = data.get(key)
        elif type(data) is list and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _place(entries: list[JsonObject], items: list[JsonObject], field: str) -> None:
    """Put each error (or value-completion note) with the entry its path lies under, else the first."""
    if not entries or not items:
        return
    for item in items:
        path = item.get("path")
        home = entries[0]
        if isinstance(path, list):
            best = -1
            for entry in entries:
                at = entry["path"]
                if len(at) > best and path[:len(at)] == at:
                    home, best = entry, len(at)
        if field == "errors":
            home.setdefault("errors", []).append(item)
        else:
            home.setdefault("extensions", {}).setdefault("valueCompletion", []).append(item)
