"""Every GraphQL operation the project shows or sends: README and docs examples, and the string constants
of the test and benchmark sources that are valid operations against the composed API schema.

Demand control's default maximum must let every one of them through.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = ["README.md", "docs", "subgraphs", "auth", "bench", "gateway"]
PYTHON = ["tests/integration", "tests/security", "tests/gateway_http", "tests/subgraphs", "bench"]
_SKIP_DIRS = {".venv", "var", "node_modules", "__pycache__"}
_CURL_BODY = re.compile(r"-d\s+'(\{.*?\})'", re.S)
_GRAPHQL_BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)


@dataclass(frozen=True)
class CorpusOperation:
    source: str          # file and position, for a failure message
    query: str
    operation_name: str | None


def _files(names: list[str], suffix: str) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = ROOT / name
        if path.is_file() and path.suffix == suffix:
            found.append(path)
        elif path.is_dir():
            found += [p for p in sorted(path.rglob(f"*{suffix}")) if not _SKIP_DIRS & set(p.parts)]
    return found


def _markdown_queries() -> list[tuple[str, str]]:
    queries = []
    for path in _files(MARKDOWN, ".md"):
        text = path.read_text(encoding="utf-8")
        for match in _CURL_BODY.finditer(text):
            try:
                body = json.loads(match.group(1))
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("query"), str):
                queries.append((f"{path.relative_to(ROOT)}:{match.start()}", body["query"]))
        for match in _GRAPHQL_BLOCK.finditer(text):
            queries.append((f"{path.relative_to(ROOT)}:{match.start()}", match.group(1)))
    return queries


def _python_queries() -> list[tuple[str, str]]:
    queries = []
    for path in _files(PYTHON, ".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
                queries.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    return queries


def corpus(api_schema: GraphQLSchema) -> list[CorpusOperation]:
    """Each valid operation once (the first place it appears)."""
    seen: set[str] = set()
    operations: list[CorpusOperation] = []
    for source, text in _markdown_queries() + _python_queries():
        if text in seen:
            continue
        seen.add(text)
        try:
            document = parse(text)
        except GraphQLError:
            continue
        if validate(api_schema, document):
            continue
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else None
                operations.append(CorpusOperation(source, text, name))
    return operations
