"""Gateway settings: one frozen tree of dataclasses, read from TOML (`kyodo serve --config FILE`).

Every key has a sane default so an empty file (or no file) gives a working gateway. Unknown keys
are an error, because a misspelt limit that silently does nothing is worse than a refusal to start.

```toml
introspection = true
expose_query_plan = false
playground = true

[limits]            # checked before graphql-core validates anything
max_body_bytes = 8388608
max_document_bytes = 524288
max_tokens = 15000
max_depth = 24
max_aliases = 200
max_root_fields = 64
max_fragments = 200
max_fragment_spreads = 1000
max_repeated_fields = 32

[caches]
documents = 1024
plans = 1024

[csrf]
enabled = true
required_headers = ["x-apollo-operation-name", "apollo-require-preflight"]

[http_client]
max_connections_per_host = 64
connect_timeout_seconds = 5.0
request_timeout_seconds = 30.0

[subgraphs.childcare]   # override the URL the supergraph names
url = "http://127.0.0.1:4101/graphql"

[telemetry]             # tracing off by default; one log line per GraphQL request
enabled = false
service_name = "kyodo-gateway"
exporter = "otlp"       # or "console"
otlp_endpoint = ""      # e.g. "http://collector:4318/v1/traces"; empty: $OTEL_EXPORTER_OTLP_* or the SDK default
sampling_ratio = 1.0    # parent-based: a sampled incoming traceparent is always followed
request_log = true
log_format = "text"     # or "json"

[auth]                  # passed through as is to the authenticator (auth/ reads it)
issuers = [{ issuer = "https://idp.example", audience = "urn:kyodo:gateway" }]
```
"""

from __future__ import annotations

import collections.abc
import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from gateway.document.limits import DocumentLimits


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class CacheSettings:
    documents: int = 1024  # parsed + validated documents kept
    plans: int = 1024      # query plans kept


@dataclass(frozen=True)
class CsrfSettings:
    enabled: bool = True
    # A request carrying any of these headers cannot be a CORS "simple" request, so a browser
    # has preflighted it (the same rule as Apollo Router's CSRF prevention).
    required_headers: tuple[str, ...] = ("x-apollo-operation-name", "apollo-require-preflight")


@dataclass(frozen=True)
class HttpClientSettings:
    max_connections: int = 512
    max_connections_per_host: int = 64
    connect_timeout_seconds: float = 5.0
    request_timeout_seconds: float = 30.0
    # Idle pooled connections are dropped after this; keep it below the subgraphs' server keep-alive (uvicorn: 5 s),
    # or the gateway sometimes reuses a connection the subgraph is just closing (ClientOSError).
    keepalive_seconds: float = 4.0


@dataclass(frozen=True)
class SubgraphOverride:
    url: str


@dataclass(frozen=True)
class RuntimeSettings:
    # A gateway request allocates thousands of short-lived containers (subgraph bodies, representations,
    # the response tree); at CPython's default gen-0 threshold (700) the cyclic collector runs many times
    # per request and rescans long-lived objects. These thresholds apply to `kyodo serve` processes only.
    gc_gen0_threshold: int = 200_000
    gc_gen1_threshold: int = 50
    gc_gen2_threshold: int = 1_000
    # Move everything allocated at start-up (schemas, supergraph model) out of the collector's sight.
    gc_freeze_after_startup: bool = True
    # How many GraphQL requests one process runs at once; the rest wait their turn before parsing.
    # 0 (the default) means no limit. A cap lowers CPU per request when many CPU-bound requests
    # interleave (bench, 1 worker, 50 connections: 4.2 -> 3.0 ms with 8), but a request waiting on a
    # slow subgraph holds its slot, so a low cap stalls everything behind a few slow calls: set it only
    # where subgraphs answer quickly, and well above the number of slow calls expected at once.
    max_concurrent_requests: int = 0


@dataclass(frozen=True)
class TelemetrySettings:
    # OpenTelemetry tracing (gateway/http/telemetry.py); off means no instrumentation is installed at all.
    enabled: bool = False
    service_name: str = "kyodo-gateway"
    exporter: str = "otlp"          # "otlp" (protobuf over HTTP) or "console"
    otlp_endpoint: str = ""         # empty: the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT
    sampling_ratio: float = 1.0     # of new traces (0 < ratio <= 1)
    # One line per GraphQL request on the `kyodo.gateway.requests` logger.
    request_log: bool = True
    log_format: str = "text"        # "text" or "json"


@dataclass(frozen=True)
class Settings:
    limits: DocumentLimits = field(default_factory=DocumentLimits)
    caches: CacheSettings = field(default_factory=CacheSettings)
    csrf: CsrfSettings = field(default_factory=CsrfSettings)
    http_client: HttpClientSettings = field(default_factory=HttpClientSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    introspection: bool = True
    # Lets a client ask for the plan with `Apollo-Expose-Query-Plan: true`; off in production.
    expose_query_plan: bool = False
    playground: bool = True
    # Directory holding the GraphiQL files (`python -m gateway.http.playground.fetch_assets`);
    # empty means the repository's var/playground.
    playground_assets_dir: str = ""
    subgraphs: Mapping[str, SubgraphOverride] = field(default_factory=dict)
    # Read by the authenticator the security engineer builds; the gateway only carries it.
    auth: Mapping[str, Any] = field(default_factory=dict)

    def subgraph_url(self, name: str, default: str) -> str:
        override = self.subgraphs.get(name)
        return override.url if override else default


def load_settings(path: str | Path | None) -> Settings:
    """Settings from a TOML file; defaults when `path` is None."""
    if path is None:
        return Settings()
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{file}: cannot read settings: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{file}: not valid TOML: {exc}") from None
    try:
        return settings_from_mapping(data)
    except SettingsError as exc:
        raise SettingsError(f"{file}: {exc}") from None


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    return _build(Settings, data, "")


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise SettingsError(f"{where or 'settings'} must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SettingsError(f"unknown key(s) {', '.join(_join(where, k) for k in unknown)}")
    values = {name: _convert(hints[name], value, _join(where, name)) for name, value in data.items()}
    return cls(**values)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{where} must be a list of strings")
        return tuple(value)
    if origin in (collections.abc.Mapping, dict) or hint is dict:
        if not isinstance(value, Mapping):
            raise SettingsError(f"{where} must be a table")
        args = typing.get_args(hint)
        item = args[1] if len(args) == 2 else Any
        if dataclasses.is_dataclass(item):
            return {k: _build(item, v, _join(where, k)) for k, v in value.items()}
        return dict(value)
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{where} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SettingsError(f"{where} must be a non-negative integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise SettingsError(f"{where} must be a positive number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise SettingsError(f"{where} must be a string")
        return value
    return value


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
