"""`execute_plan`: run a plan's fetches, merge their results, shape the client's response."""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson

from gateway.executor.fetcher import SUBGRAPH_FAILED, SubgraphFetcher, SubgraphRequestError
from gateway.executor.merge import apply_renames, deep_merge
from gateway.document import AnalyzedOperation, PreparedOperation
from gateway.executor.projection import INVALID, ObjectShape, Projector, ShapeCompiler
from gateway.executor.flat_representation import FlatRepresentation
from gateway.executor.representations import (
    PathChain,
    build_representation,
    objects_at,
    objects_with_paths,
    path_list,
)
from gateway.introspection import introspection_data
from gateway.planner import Condition, Defer, Fetch, Flatten, Parallel, PlanNode, QueryPlan, Sequence, SubscriptionNode
from gateway.supergraph.model import Supergraph

# extensions.code when the supergraph offers no way to resolve a selected field
PLANNING_FAILED = "QUERY_PLANNING_FAILED"


JsonObject = dict[str, Any]


class _Run:
    def __init__(self, supergraph: Supergraph, variables: Mapping[str, Any], raw_variables: Mapping[str, Any],
                 fetcher: SubgraphFetcher, compiled: dict[int, FlatRepresentation | None]) -> None:
        self.sg = supergraph
        # per-plan memo (CompiledPlan.representations): id(Fetch) -> FlatRepresentation | None
        self.compiled = compiled
        self.variables = variables          # coerced: what Condition nodes read
        self.raw_variables = raw_variables  # the client's JSON values: what subgraphs are sent
        self.fetcher = fetcher
        self.data: JsonObject = {}
        self.errors: list[JsonObject] = []

    def _applies(self, condition: str | None, typename: str | None) -> bool:
        if condition is None or condition == typename:
            return True
        return typename is not None and typename in self.sg.possible_types(condition)

    async def run(self, node: PlanNode | None) -> None:
        if node is None:
            return
        if isinstance(node, Sequence):
            for child in node.nodes:
                await self.run(child)
        elif isinstance(node, Parallel):
            await asyncio.gather(*(self.run(child) for child in node.nodes))
        elif isinstance(node, Fetch):
            await self.root_fetch(node)
        elif isinstance(node, Flatten):
            await self.entity_fetch(node.path, node.node)
        elif isinstance(node, Defer):  # (a Defer is the plan's root: gateway/executor/incremental.py)
            raise TypeError("a Defer node runs only at the root of a plan")
        elif isinstance(node, Condition):
            if self.variables.get(node.variable):
                await self.run(node.if_clause)
            else:
                await self.run(node.else_clause)
        elif isinstance(node, SubscriptionNode):
            # a subscription runs event by event (execute_subscription_event), never as one answer
            raise TypeError("a subscription plan cannot be executed as a query")

    def _fetch_variables(self, fetch: Fetch) -> JsonObject:
        raw = self.raw_variables
        return {v: raw[v] for v in fetch.variable_usages if v in raw}

    async def _call(self, fetch: Fetch, variables: JsonObject) -> JsonObject | None:
        name = self.sg.subgraphs[fetch.subgraph].name if fetch.subgraph in self.sg.subgraphs else fetch.subgraph
        try:
            return await self.fetcher.fetch(fetch.subgraph, fetch.operation, variables or None, None)
        except SubgraphRequestError as error:
            reason, code = error.reason, error.code
        except Exception as error:  # noqa: BLE001 - any fetcher failure becomes a GraphQL error
            reason, code = error.__class__.__name__, SUBGRAPH_FAILED
        self.errors.append({
            "message": f'Request to subgraph "{name}" failed: {reason}',
            "extensions": {"code": code, "service": name},
        })
        return None

    def _subgraph_errors(self, fetch: Fetch, response: JsonObject, entity_paths: list[list[str | int]] | None) -> None:
        name = self.sg.subgraphs[fetch.subgraph].name if fetch.subgraph in self.sg.subgraphs else fetch.subgraph
        for error in response.get("errors") or ():
            if not isinstance(error, dict):
                continue
            rewritten: dict[str, Any] = {"message": error.get("message", "subgraph error")}
            path = error.get("path")
            if isinstance(path, list):
                if entity_paths is not None:
                    if len(path) >= 2 and path[0] == "_entities" and isinstance(path[1], int) \
                            and 0 <= path[1] < len(entity_paths):
                        rewritten["path"] = entity_paths[path[1]] + path[2:]
                else:
                    rewritten["path"] = path
            extensions = dict(error.get("extensions") or {})
            extensions.setdefault("service", name)
            rewritten["extensions"] = extensions
            self.errors.append(rewritten)

    async def root_fetch(self, fetch: Fetch) -> None:
        response = await self._call(fetch, self._fetch_variables(fetch))
        if response is None:
            return
        self.root_response(fetch, response)

    def root_response(self, fetch: Fetch, response: JsonObject) -> None:
        self._subgraph_errors(fetch, response, None)
        data = response.get("data")
        if isinstance(data, dict):
            if fetch.renames is not None:
                apply_renames(data, fetch.renames)
            deep_merge(self.data, data)

    async def entity_fetch(self, path: tuple[str, ...], fetch: Fetch) -> None:
        found = objects_at(self.data, path)
        if not found:
            return
        key = id(fetch)
        if key in self.compiled:
            compiled = self.compiled[key]
        else:
            compiled = self.compiled[key] = FlatRepresentation.of(fetch)
        if compiled is not None:
            representations, targets = compiled.collect(found)
        else:
            representations, targets = self._collect(fetch, found)
        if not representations:
            return
        variables = self._fetch_variables(fetch)
        variables["representations"] = representations
        response = await self._call(fetch, variables)
        if response is None:
            return
        if response.get("errors"):
            self._subgraph_errors(fetch, response, _first_paths(self.data, path, targets))
        data = response.get("data")
        entities = data.get("_entities") if isinstance(data, dict) else None
        if not isinstance(entities, list):
            return
        renames = fetch.renames
        for entity, objects in zip(entities, targets):
            if type(entity) is not dict:
                continue
            if renames is not None:
                apply_renames(entity, renames)
            for obj in objects:
                if obj.keys().isdisjoint(entity):
                    obj.update(entity)  # deep_merge's own fast path, without a call per object
                else:
                    deep_merge(obj, entity)

    def _collect(self, fetch: Fetch, found: list[JsonObject]) -> tuple[list[JsonObject], list[list[JsonObject]]]:
        """Representations (each once) and, for each, the objects it stands for: the general case
        (nested keys, fragments in @requires, a fixed __typename)."""
        representations: list[JsonObject] = []
        targets: list[list[JsonObject]] = []
        index: dict[object, int] = {}
        accepted = fetch.accepted_types
        fixed_typename = fetch.representation_typename
        flat = fetch.requires.flat() if fetch.requires is not None else None
        for obj in found:
            typename = obj.get("__typename")
            if accepted and typename is not None and typename not in accepted:
                continue
            if flat is not None:
                rep = {name: obj[key] for key, name in flat if key in obj}
            elif fetch.requires is not None:
                rep = build_representation(obj, fetch.requires, self._applies)
            else:
                rep = {}
            if fixed_typename is not None:
                rep["__typename"] = fixed_typename
            elif "__typename" not in rep:
                rep["__typename"] = fetch.entity_type
            if any(rep.get(k) is None for k in fetch.key_fields):
                continue  # an entity without its key cannot be fetched
            try:
                token: object = tuple(rep.values())
                hash(token)
            except TypeError:  # nested values: compare by their JSON text
                token = orjson.dumps(rep, option=orjson.OPT_SORT_KEYS)
            i = index.get(token)
            if i is None:
                index[token] = len(representations)
                representations.append(rep)
                targets.append([obj])
            else:
                targets[i].append(obj)
        return representations, targets


def _first_paths(data: JsonObject, path: tuple[str, ...], targets: list[list[JsonObject]]) -> list[list[str | int]]:
    """The response path of each representation's first object (where its errors are reported)."""
    paths: dict[int, PathChain] = {}
    for obj, at in objects_with_paths(data, path):
        paths.setdefault(id(obj), at)
    return [path_list(paths.get(id(objects[0]))) for objects in targets]


class CompiledPlan:
    """What the executor derives from a plan once and reuses: representation readers per fetch,
    and the response shapes per analyzed operation and @skip/@include outcome."""

    __slots__ = ("plan", "representations", "analysis", "shapes")

    def __init__(self, plan: QueryPlan) -> None:
        self.plan = weakref.ref(plan)
        self.representations: dict[int, FlatRepresentation | None] = {}  # id(Fetch) -> reader
        self.analysis: AnalyzedOperation | None = None
        self.shapes: dict[tuple[bool, ...], tuple[ShapeCompiler, ObjectShape]] = {}


class CompiledPlans:
    """The executor's own bounded memo, keyed by plan identity (a plan is immutable data and may be
    shared or rebuilt; an entry whose plan is gone is never served to another one)."""

    def __init__(self, max_size: int = 1024) -> None:
        self.max_size = max_size
        self._entries: OrderedDict[int, CompiledPlan] = OrderedDict()

    def get(self, plan: QueryPlan) -> CompiledPlan:
        key = id(plan)
        entry = self._entries.get(key)
        if entry is not None and entry.plan() is plan:
            self._entries.move_to_end(key)
            return entry
        entry = self._entries[key] = CompiledPlan(plan)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)
        return entry


COMPILED = CompiledPlans()


async def execute_plan(plan: QueryPlan, supergraph: Supergraph, operation: PreparedOperation,
                       fetcher: SubgraphFetcher, *, value_completion: str = "routers") -> dict[str, Any]:
    """The client's response. `value_completion` ("routers" | "strict", Settings.value_completion) says
    where nullifications the data explains by itself are reported (see executor/projection.py)."""
    if plan.errors:
        return {"data": None, "errors": [{"message": m, "extensions": {"code": PLANNING_FAILED}} for m in plan.errors]}
    compiled = COMPILED.get(plan)
    if isinstance(plan.node, Defer):
        from gateway.executor.incremental import execute_incremental

        return await execute_incremental(plan.node, supergraph, operation, fetcher, compiled, value_completion)
    run = _Run(supergraph, operation.variables, operation.raw_variables, fetcher, compiled.representations)
    await run.run(plan.node)
    return _respond(run, compiled, supergraph, operation, value_completion)


async def execute_subscription_event(plan: QueryPlan, supergraph: Supergraph, operation: PreparedOperation,
                                     fetcher: SubgraphFetcher, event: Mapping[str, Any], *,
                                     value_completion: str = "routers") -> dict[str, Any]:
    """One event of a subscription: `event` is what the primary fetch's subgraph sent (a GraphQL
    response: data, errors); the rest of the plan runs with its data as the root data, then the
    response is shaped as for a query."""
    node = plan.node
    if not isinstance(node, SubscriptionNode):
        raise TypeError("not a subscription plan")
    compiled = COMPILED.get(plan)
    run = _Run(supergraph, operation.variables, operation.raw_variables, fetcher, compiled.representations)
    run.root_response(node.primary, dict(event))
    await run.run(node.rest)
    return _respond(run, compiled, supergraph, operation, value_completion)


def _respond(run: _Run, compiled: CompiledPlan, supergraph: Supergraph, operation: PreparedOperation,
             value_completion: str) -> dict[str, Any]:
    if operation.has_introspection:
        intro_data, intro_errors = introspection_data(supergraph.api_schema, operation)
        run.data.update(intro_data)
        run.errors.extend(intro_errors)
    error_paths = {tuple(e["path"]) for e in run.errors if isinstance(e.get("path"), list)}
    root_type = supergraph.api_schema.get_root_type(operation.type)
    assert root_type is not None  # validation refuses an operation the API schema has no root for
    compiler, root_fields = _shapes(compiled, supergraph, operation, root_type.name)
    completion: list[dict[str, Any]] | None = None if value_completion == "strict" else []
    projector = Projector(compiler, run.errors, error_paths, completion)
    data = projector.project_object(root_fields, root_type.name, run.data, None)
    result: dict[str, Any] = {"data": None if data is INVALID else data}
    if run.errors:
        result["errors"] = run.errors
    if completion:
        result["extensions"] = {"valueCompletion": completion}
    return result


def _shapes(compiled: CompiledPlan, supergraph: Supergraph, operation: PreparedOperation,
            root_name: str) -> tuple[ShapeCompiler, ObjectShape]:
    """Compiled response shapes for this operation and @skip/@include outcome."""
    analysis = operation.analysis
    if compiled.analysis is not analysis:
        compiled.analysis = analysis
        compiled.shapes = {}
    values = operation.variables
    signature = tuple(bool(values.get(v)) for v in analysis.condition_variables)
    shapes = compiled.shapes.get(signature)
    if shapes is None:
        compiler = ShapeCompiler(supergraph.api_schema, values, supergraph.schema)
        shapes = compiled.shapes[signature] = (compiler, ObjectShape(compiler.fields(root_name, (analysis.selection,))))
    return shapes
