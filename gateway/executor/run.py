"""`execute_plan`: run a plan's fetches, merge their results, shape the client's response."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, value_from_ast_untyped

from gateway.executor.fetcher import SubgraphFetcher, SubgraphRequestError
from gateway.executor.merge import apply_renames, deep_merge
from gateway.executor.projection import INVALID, ObjectShape, Projector, ShapeCompiler, skip_include_variables
from gateway.executor.flat_representation import FlatRepresentation
from gateway.executor.representations import build_representation, objects_at, objects_with_paths, path_list
from gateway.introspection import introspection_data
from gateway.planner.build import select_operation
from gateway.planner.nodes import Condition, Fetch, Flatten, Parallel, QueryPlan, Sequence
from gateway.supergraph.model import Supergraph

# extensions.code of the error added when a subgraph cannot be reached or answers with no GraphQL body
SUBGRAPH_FAILED = "SUBREQUEST_HTTP_ERROR"
# extensions.code when the supergraph offers no way to resolve a selected field
PLANNING_FAILED = "QUERY_PLANNING_FAILED"


_NOT_COMPILED = object()


class _Run:
    def __init__(self, supergraph: Supergraph, variables: dict, fetcher: SubgraphFetcher,
                 compiled: dict | None = None) -> None:
        self.sg = supergraph
        # per-plan memo: id(Fetch) -> FlatRepresentation | None (kept on the plan, built once)
        self.compiled: dict = {} if compiled is None else compiled
        self.variables = variables
        self.fetcher = fetcher
        self.data: dict = {}
        self.errors: list[dict] = []

    def _applies(self, condition: str | None, typename: str | None) -> bool:
        if condition is None or condition == typename:
            return True
        return typename is not None and typename in self.sg.possible_types(condition)

    async def run(self, node) -> None:
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
        elif isinstance(node, Condition):
            if self.variables.get(node.variable):
                await self.run(node.if_clause)
            else:
                await self.run(node.else_clause)

    def _fetch_variables(self, fetch: Fetch) -> dict:
        return {v: self.variables[v] for v in fetch.variable_usages if v in self.variables}

    async def _call(self, fetch: Fetch, variables: dict) -> dict | None:
        name = self.sg.subgraphs[fetch.subgraph].name if fetch.subgraph in self.sg.subgraphs else fetch.subgraph
        try:
            return await self.fetcher.fetch(fetch.subgraph, fetch.operation, variables or None, None)
        except SubgraphRequestError as error:
            reason = error.reason
        except Exception as error:  # noqa: BLE001 - any fetcher failure becomes a GraphQL error
            reason = error.__class__.__name__
        self.errors.append({
            "message": f'Request to subgraph "{name}" failed: {reason}',
            "extensions": {"code": SUBGRAPH_FAILED, "service": name},
        })
        return None

    def _subgraph_errors(self, fetch: Fetch, response: dict, entity_paths: list[list] | None) -> None:
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
        self._subgraph_errors(fetch, response, None)
        data = response.get("data")
        if isinstance(data, dict):
            if fetch.has_renames and fetch.selection is not None:
                apply_renames(data, fetch.selection)
            deep_merge(self.data, data)

    async def entity_fetch(self, path: list[str], fetch: Fetch) -> None:
        found = objects_at(self.data, path)
        if not found:
            return
        compiled = self.compiled.get(id(fetch), _NOT_COMPILED)
        if compiled is _NOT_COMPILED:
            compiled = self.compiled[id(fetch)] = FlatRepresentation.of(fetch)
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
        renames = fetch.has_renames and fetch.selection is not None
        for entity, objects in zip(entities, targets):
            if type(entity) is not dict:
                continue
            if renames:
                apply_renames(entity, fetch.selection)
            for obj in objects:
                deep_merge(obj, entity)

    def _collect(self, fetch: Fetch, found: list[dict]) -> tuple[list[dict], list[list[dict]]]:
        """Representations (each once) and, for each, the objects it stands for: the general case
        (nested keys, fragments in @requires, a fixed __typename)."""
        representations: list[dict] = []
        targets: list[list[dict]] = []
        index: dict = {}
        accepted = fetch.accepted_types
        fixed_typename = fetch.representation_typename
        for obj in found:
            typename = obj.get("__typename")
            if accepted and typename is not None and typename not in accepted:
                continue
            if fetch.flat_requires is not None:
                rep = {name: obj[key] for key, name in fetch.flat_requires if key in obj}
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


def _first_paths(data: dict, path: list[str], targets: list[list[dict]]) -> list[list]:
    """The response path of each representation's first object (where its errors are reported)."""
    paths: dict[int, tuple | None] = {}
    for obj, at in objects_with_paths(data, path):
        paths.setdefault(id(obj), at)
    return [path_list(paths.get(id(objects[0]))) for objects in targets]


def _coerced_variables(operation: OperationDefinitionNode, variables: dict | None) -> dict:
    values = dict(variables or {})
    for vd in operation.variable_definitions or ():
        name = vd.variable.name.value
        if name not in values and vd.default_value is not None:
            values[name] = value_from_ast_untyped(vd.default_value, values)
    return values


async def execute_plan(plan: QueryPlan, supergraph: Supergraph, document: DocumentNode,
                       operation_name: str | None, variables: dict | None, fetcher: SubgraphFetcher) -> dict:
    operation = select_operation(document, operation_name)
    if plan.errors:
        return {"data": None, "errors": [{"message": m, "extensions": {"code": PLANNING_FAILED}} for m in plan.errors]}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    values = _coerced_variables(operation, variables)
    run = _Run(supergraph, values, fetcher, plan.cache.setdefault("representations", {}))
    await run.run(plan.node)
    introspected = introspection_data(supergraph.api_schema, document, operation, fragments, values)
    if introspected is not None:
        intro_data, intro_errors = introspected
        run.data.update(intro_data)
        run.errors.extend(intro_errors)
    error_paths = {tuple(e["path"]) for e in run.errors if isinstance(e.get("path"), list)}
    root_type = supergraph.api_schema.get_root_type(operation.operation)
    compiler, root_fields = _shapes(plan, supergraph, document, operation, fragments, values, root_type.name)
    projector = Projector(compiler, run.errors, error_paths)
    data = projector.project_object(root_fields, root_type.name, run.data, None)
    result: dict = {"data": None if data is INVALID else data}
    if run.errors:
        result["errors"] = run.errors
    return result


def _shapes(plan: QueryPlan, supergraph: Supergraph, document: DocumentNode, operation: OperationDefinitionNode,
            fragments: dict, values: dict, root_name: str):
    """Compiled response shapes for this operation and @skip/@include outcome, memoised on the plan."""
    cache = plan.cache
    if cache.get("document") is not document or cache.get("operation") is not operation:
        cache.clear()
        cache["document"] = document
        cache["operation"] = operation
        cache["condition_variables"] = skip_include_variables(document)
        cache["shapes"] = {}
    signature = tuple(bool(values.get(v)) for v in cache["condition_variables"])
    shapes = cache["shapes"].get(signature)
    if shapes is None:
        compiler = ShapeCompiler(supergraph.api_schema, fragments, values)
        shapes = cache["shapes"][signature] = (compiler, ObjectShape(compiler.fields(root_name, (operation.selection_set,))))
    return shapes
