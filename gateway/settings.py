"""Gateway settings: one validated, frozen model of `gateway.toml` (`kyodo serve --config FILE`).

Every key has a default, so an empty file (or no file) gives a working gateway apart from `[auth]`,
which `kyodo serve` requires (see docs/operations.md). Validation happens here and only here, with
pydantic in strict mode: an unknown key, a wrong type or a value out of range is a `SettingsError`
whose message is ONE line naming the file and the key, e.g.

    gateway.toml: auth.issuers[0].audiance: unknown key

Environment variables override keys, one way only: `KYODO__` + the key path in capitals with `__`
between the parts (`KYODO__LIMITS__MAX_DEPTH=10`, `KYODO__AUTH__ANONYMOUS_ONLY=true`). The value is
read as a TOML value (`10`, `true`, `2.5`, `["a", "b"]`); anything that is not valid TOML is a plain
string (`KYODO__TELEMETRY__OTLP_ENDPOINT=http://collector:4318/v1/traces`). Overrides are validated
exactly like the file, and an error names the variable. Arrays of tables (`auth.issuers`, `plugins`)
can only be replaced whole, as a TOML inline array.

```toml
introspection = true
expose_query_plan = false
playground = true

[limits]            # checked before graphql-core validates anything (gateway/document/limits.py)
max_depth = 24

[caches]
documents = 1024
plans = 1024

[csrf]
enabled = true
required_headers = ["x-apollo-operation-name", "apollo-require-preflight"]

[http_client]
request_timeout_seconds = 30.0

[subgraphs.childcare]   # override the URL the supergraph names, and any [http_client] key
url = "http://127.0.0.1:4101/graphql"
request_timeout_seconds = 5.0

[telemetry]             # tracing off by default; one log line per GraphQL request
enabled = false

[auth]                  # who may call (gateway/security.py)
[[auth.issuers]]
issuer = "https://idp.example"
audience = "urn:kyodo:gateway"

[[plugins]]             # operator plugins (gateway/plugins), each with its own settings table
module = "gateway.plugins.municipality_header"
settings = { subgraphs = ["safety"] }
```
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, StrictStr, ValidationError, create_model, field_validator, model_validator

from auth.gateway_keys import DEFAULT_KEY_PATH
from auth.jwt_checks import DEFAULT_MAX_TOKEN_BYTES
from auth.principal import ClaimMapping
from auth.resource_server import DEFAULT_ALGORITHMS, TrustedIssuer
from auth.revocation import Introspection
from auth.trust import IssuerTrust
from gateway.document.limits import DocumentLimits
from gateway.contracts.settings import ContractSettings
from gateway.persisted.settings import PersistedDocumentsSettings
from gateway.traffic.coalescing import CoalescingSettings
from gateway.traffic.cost import DemandControlSettings
from gateway.traffic.rate_limit import RateLimitSettings
from gateway.traffic.response_cache import ResponseCacheSettings

ENV_PREFIX = "KYODO__"
ENV_SEPARATOR = "__"

NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
# TOML has arrays, not tuples: the list is accepted (lax), its items stay strictly strings.
Names = Annotated[tuple[StrictStr, ...], Field(strict=False)]


class SettingsError(ValueError):
    """A settings file that cannot be used; the message is one line naming the file and the key."""


class SettingsModel(BaseModel):
    """Base of every settings table: frozen, strict types, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# [limits] mirrors gateway/document's DocumentLimits, so the defaults live in one place.
LimitsSettings = create_model(
    "LimitsSettings",
    __base__=SettingsModel,
    **{item.name: (NonNegativeInt, item.default) for item in dataclasses.fields(DocumentLimits)},  # type: ignore[call-overload]
)


class CacheSettings(SettingsModel):
    documents: NonNegativeInt = 1024  # parsed + validated documents kept
    plans: NonNegativeInt = 1024      # query plans kept


class CsrfSettings(SettingsModel):
    enabled: bool = True
    # A request carrying any of these headers cannot be a CORS "simple" request, so a browser
    # has preflighted it (the same rule as Apollo Router's CSRF prevention).
    required_headers: Names = ("x-apollo-operation-name", "apollo-require-preflight")


class CircuitBreakerSettings(SettingsModel):
    """`[http_client.circuit_breaker]` (defaults for every subgraph) and `[subgraphs.<name>.circuit_breaker]`:
    after `failure_threshold` failures in a row (connection errors, timeouts, HTTP 5xx; not GraphQL errors in a
    200), none more than `window_seconds` after the first, fetches to that subgraph fail at once for
    `cooldown_seconds`; then one probe is let through: success closes the circuit, failure re-opens it."""

    enabled: bool = True
    failure_threshold: PositiveInt = 5
    window_seconds: PositiveFloat = 10.0
    cooldown_seconds: PositiveFloat = 5.0


class HttpClientSettings(SettingsModel):
    """`[http_client]`: how the gateway talks to every subgraph; `[subgraphs.<name>]` overrides any key for one."""

    # Each subgraph has its own pool: at most max_connections_per_host connections to its host (0: no limit),
    # and at most max_connections in all (only binds for a subgraph whose URL names several hosts).
    max_connections: NonNegativeInt = 512
    max_connections_per_host: NonNegativeInt = 64
    connect_timeout_seconds: PositiveFloat = 5.0
    # Longest wait for the next bytes of an answer once the request is sent; 0: only the total limit applies.
    read_timeout_seconds: NonNegativeFloat = 0.0
    request_timeout_seconds: PositiveFloat = 30.0   # one fetch, from connecting to the last byte
    # Idle pooled connections are dropped after this; it must stay below the subgraphs' server keep-alive
    # (`subgraph_keepalive_seconds`, uvicorn: 5 s), or the gateway sometimes reuses a connection the subgraph is
    # just closing (ClientOSError).
    keepalive_seconds: PositiveFloat = 4.0
    subgraph_keepalive_seconds: PositiveFloat = 5.0
    # A query whose pooled connection turns out to be closed is sent once more on a new one (never a mutation).
    retry_closed_connections: bool = True
    circuit_breaker: CircuitBreakerSettings = CircuitBreakerSettings()

    @model_validator(mode="after")
    def _keepalive_below_the_servers(self) -> HttpClientSettings:
        if self.keepalive_seconds >= self.subgraph_keepalive_seconds:
            raise ValueError(f"keepalive_seconds ({self.keepalive_seconds:g}) must be below subgraph_keepalive_seconds "
                             f"({self.subgraph_keepalive_seconds:g}), the subgraph server's idle keep-alive")
        return self


class CircuitBreakerOverride(SettingsModel):
    enabled: bool | None = None
    failure_threshold: PositiveInt | None = None
    window_seconds: PositiveFloat | None = None
    cooldown_seconds: PositiveFloat | None = None


class SubgraphOverride(SettingsModel):
    """`[subgraphs.<name>]`: the URL the supergraph names, and any `[http_client]` key, for one subgraph.
    `<name>` is the subgraph's name (or its join__Graph enum value); an unknown one stops the gateway at start."""

    url: str | None = None
    max_connections: NonNegativeInt | None = None   # this subgraph's pool (overrides max_connections_per_host)
    connect_timeout_seconds: PositiveFloat | None = None
    read_timeout_seconds: NonNegativeFloat | None = None
    request_timeout_seconds: PositiveFloat | None = None
    keepalive_seconds: PositiveFloat | None = None
    subgraph_keepalive_seconds: PositiveFloat | None = None
    retry_closed_connections: bool | None = None
    circuit_breaker: CircuitBreakerOverride = CircuitBreakerOverride()

    def client_settings(self, defaults: HttpClientSettings) -> HttpClientSettings:
        """The `[http_client]` defaults with this table's keys applied (validated again as a whole)."""
        changed = self.model_dump(exclude_none=True, exclude={"url", "max_connections", "circuit_breaker"})
        if self.max_connections is not None:
            changed["max_connections_per_host"] = self.max_connections
        breaker = self.circuit_breaker.model_dump(exclude_none=True)
        if breaker:
            changed["circuit_breaker"] = defaults.circuit_breaker.model_copy(update=breaker)
        if not changed:
            return defaults
        merged = defaults.model_dump()
        merged.update(changed)
        if "circuit_breaker" in changed:
            merged["circuit_breaker"] = changed["circuit_breaker"].model_dump()
        return HttpClientSettings.model_validate(merged)


class RuntimeSettings(SettingsModel):
    # A gateway request allocates thousands of short-lived containers (subgraph bodies, representations,
    # the response tree); at CPython's default gen-0 threshold (700) the cyclic collector runs many times
    # per request and rescans long-lived objects. These thresholds apply to `kyodo serve` processes only.
    # Not higher: graphql-core's validation leaves cycles that hold each new document's AST until a
    # collection, and at 200_000 / 50 / 1_000 (a full collection practically never) 10,000 distinct valid
    # queries grew RSS by 30 MB against 16 MB here (bench/memory/refusals.py, issue 9).
    gc_gen0_threshold: NonNegativeInt = 50_000
    gc_gen1_threshold: NonNegativeInt = 20
    gc_gen2_threshold: NonNegativeInt = 100
    # Move everything allocated at start-up (schemas, supergraph model) out of the collector's sight.
    gc_freeze_after_startup: bool = True
    # How many GraphQL requests one process runs at once; the rest wait their turn before parsing.
    # 0 (the default) means no limit. A cap lowers CPU per request when many CPU-bound requests
    # interleave (bench, 1 worker, 50 connections: 4.2 -> 3.0 ms with 8), but a request waiting on a
    # slow subgraph holds its slot, so a low cap stalls everything behind a few slow calls: set it only
    # where subgraphs answer quickly, and well above the number of slow calls expected at once.
    max_concurrent_requests: NonNegativeInt = 0
    # Load shedding: past this many GraphQL requests in one process (running or waiting for a slot above),
    # a new one is answered at once with 503 and Retry-After instead of queueing. 0 turns it off.
    max_requests_in_flight: NonNegativeInt = 512
    shed_retry_after_seconds: PositiveInt = 1
    # The budget of one GraphQL request, from arrival to answer. Each subgraph fetch is sent what is left of it
    # (header `Kyodo-Request-Timeout-Ms`), so the subgraph stops working on it when the gateway stops waiting;
    # past it the fetches are cancelled and the client gets 504 GATEWAY_TIMEOUT. 0: no budget.
    request_timeout_seconds: NonNegativeFloat = 30.0


class SubscriptionSettings(SettingsModel):
    """[subscriptions]: GraphQL subscriptions over WebSocket (graphql-transport-ws) and server-sent events
    (docs/operations.md, "Subscriptions"). The caps bound what one caller can hold open: each open
    subscription holds a socket to a subgraph."""

    enabled: bool = True
    websocket: bool = True   # graphql-transport-ws on the GraphQL paths
    sse: bool = True         # GraphQL over SSE, "distinct connections" mode (Accept: text/event-stream)
    multipart: bool = True   # Apollo's multipart HTTP (Accept: multipart/mixed;subscriptionSpec=1.0)
    max_per_principal: PositiveInt = 10    # per signed-in subject; anonymous callers: per client address
    max_per_connection: PositiveInt = 10   # on one WebSocket
    max_total: PositiveInt = 10_000        # in one gateway process
    # Identical subscriptions (same operation, variable values and caller) share one subgraph stream and one
    # execution per event, as Apollo Router's enable_deduplication (default on there too).
    deduplicate: bool = True
    # A WebSocket that has not sent connection_init by then is closed with 4408 (graphql-ws's default: 3 s).
    connection_init_timeout_seconds: PositiveFloat = 3.0
    # An SSE stream sends a comment this often so proxies do not close an idle one (graphql-sse: 12 s).
    sse_keepalive_seconds: PositiveFloat = 12.0
    # A multipart stream sends a `{}` heartbeat part this often (Apollo Router: 5 s).
    multipart_heartbeat_seconds: PositiveFloat = 5.0
    # How long the gateway waits for a subgraph's connection_ack.
    subgraph_ack_timeout_seconds: PositiveFloat = 10.0


class TelemetrySettings(SettingsModel):
    # OpenTelemetry tracing (gateway/plugins/tracing.py); off means no instrumentation is installed at all.
    enabled: bool = False
    service_name: str = "kyodo-gateway"
    exporter: Literal["otlp", "console"] = "otlp"   # "otlp" (protobuf over HTTP) or "console"
    otlp_endpoint: str = ""         # empty: the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT
    sampling_ratio: Annotated[float, Field(gt=0, le=1)] = 1.0   # of new traces
    # One line per GraphQL request on the `kyodo.gateway.requests` logger.
    request_log: bool = True
    log_format: Literal["text", "json"] = "text"


class CorsSettings(SettingsModel):
    """Which other web origins' browsers may call the gateway (gateway/plugins/cors.py)."""

    # Exact origins ("https://app.city.example"); empty: no CORS at all (same-origin pages only).
    allow_origins: Names = ()
    allow_credentials: bool = False     # cookies / HTTP auth from those origins; bearer tokens need not
    allow_headers: Names = (
        "content-type", "authorization", "apollo-require-preflight", "x-apollo-operation-name", "x-request-id",
    )
    expose_headers: Names = ("x-request-id",)
    max_age_seconds: NonNegativeInt = 600   # how long a browser may cache a preflight answer

    @field_validator("allow_origins")
    @classmethod
    def _exact_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            scheme, _, rest = origin.partition("://")
            if origin == "*" or not (scheme in ("http", "https") and rest and "/" not in rest):
                raise ValueError(f"{origin!r} is not an origin such as 'https://app.city.example' (no '*', no path)")
        return origins


class AdminSettings(SettingsModel):
    """Where operators' endpoints (/metrics, /health) are served (gateway/http/admin.py)."""

    # A second listener for /metrics and /health, e.g. on the monitoring network; 0: none.
    port: Annotated[int, Field(ge=0, le=65535)] = 0
    host: str = "127.0.0.1"
    # /metrics on the public port too: off by default (it tells anyone the traffic and error rates).
    metrics_on_public_port: bool = False


class ClaimSettings(SettingsModel):
    """Where each Principal field is read from in a token (auth/principal.py's ClaimMapping)."""

    subject: str = ClaimMapping.subject
    subject_fallback: str = ClaimMapping.subject_fallback
    municipality: str = ClaimMapping.municipality
    roles: str = ClaimMapping.roles
    scopes: Names = ClaimMapping.scopes
    assurance: str = ClaimMapping.assurance
    methods: str = ClaimMapping.methods
    client_id: Names = ClaimMapping.client_id
    default_roles: Names = ClaimMapping.default_roles

    @field_validator("scopes", "client_id", "default_roles", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class TrustSettings(SettingsModel):
    """`[auth.issuers.trust]`: what one issuer may vouch for (auth/trust.py explains each key)."""

    name: str
    subjects: Literal["resident-ids", "namespaced"] = "namespaced"
    municipalities: Names = ()
    roles: Names = ()
    scopes: Names = ()
    links: dict[str, str] = {}
    links_file: str | None = None


class IntrospectionSettings(SettingsModel):
    """`[auth.issuers.introspection]`: ask the issuer (RFC 7662) whether a sign-in was revoked (auth/revocation.py)."""

    endpoint: str
    client_id: str = "kyodo-gateway"
    client_secret_env: str = "KYODO_GATEWAY_INTROSPECTION_SECRET"   # the variable holding the secret
    check_seconds: NonNegativeFloat = 30.0


class IssuerSettings(SettingsModel):
    """One `[[auth.issuers]]` entry: a token issuer the gateway trusts."""

    issuer: Annotated[str, Field(min_length=1)]
    audience: str | None = None
    audiences: Names = ()
    algorithms: Names = DEFAULT_ALGORITHMS
    jwks_uri: str | None = None       # else OIDC discovery
    claims: ClaimSettings = ClaimSettings()
    # None: trusted for everything, which auth allows only when it is the sole issuer.
    trust: TrustSettings | None = None
    # None: a token is good until it expires; set, a revoked sign-in is refused within check_seconds.
    introspection: IntrospectionSettings | None = None

    @model_validator(mode="after")
    def _usable(self) -> IssuerSettings:
        self.trusted()  # auth's own checks (an audience; never none/HMAC algorithms) raise ValueError
        if self.introspection is not None and not os.environ.get(self.introspection.client_secret_env):
            # fail closed at start, not with every request refused later
            raise ValueError(f"introspection needs the gateway's client secret in ${self.introspection.client_secret_env}")
        return self

    def trusted(self) -> TrustedIssuer:
        audiences = self.audiences or ((self.audience,) if self.audience else ())
        return TrustedIssuer(
            issuer=self.issuer,
            audiences=audiences,
            algorithms=self.algorithms,
            jwks_uri=self.jwks_uri,
            claims=ClaimMapping(**self.claims.model_dump()),
            trust=(IssuerTrust.from_mapping(self.trust.model_dump(exclude_none=True), self.issuer)
                   if self.trust is not None else None),
            introspection=Introspection(**self.introspection.model_dump()) if self.introspection else None,
        )


class AuthSettings(SettingsModel):
    """`[auth]`: read by gateway/security.py."""

    issuers: Annotated[tuple[IssuerSettings, ...], Field(strict=False)] = ()
    # Open data only: no issuer is trusted and every request carrying a token is refused. `kyodo serve`
    # refuses to start with no issuer unless this says so explicitly (and logs a warning when it does).
    anonymous_only: bool = False
    context_key_file: str = str(DEFAULT_KEY_PATH)   # the gateway's ES256 context-token key (created on first run)
    clock_skew_seconds: NonNegativeInt = 30
    max_token_bytes: PositiveInt = DEFAULT_MAX_TOKEN_BYTES
    jwks_refresh_cooldown_seconds: PositiveFloat = 30.0   # at most one unknown-kid re-fetch per issuer per this
    jwks_max_age_seconds: PositiveFloat = 3600.0
    # "package.module:function" deciding @policy names; empty means every policy is denied.
    policy_hook: str = ""

    @field_validator("policy_hook")
    @classmethod
    def _module_colon_function(cls, value: str) -> str:
        module, _, function = value.partition(":")
        if value and not (module and function.isidentifier()):
            raise ValueError("must look like 'package.module:function'")
        return value

    @model_validator(mode="after")
    def _issuers_or_anonymous(self) -> AuthSettings:
        if self.anonymous_only and self.issuers:
            raise ValueError("anonymous_only = true cannot be combined with [[auth.issuers]]")
        return self

    def trusted_issuers(self) -> tuple[TrustedIssuer, ...]:
        return tuple(issuer.trusted() for issuer in self.issuers)


class PluginSettings(SettingsModel):
    """One `[[plugins]]` entry. The plugin's own `settings` table is validated by the plugin's model
    when it is loaded (gateway/plugins/loading.py), with the same one-line errors."""

    module: str

    @field_validator("module")
    @classmethod
    def _dotted_name(cls, value: str) -> str:
        if not all(part.isidentifier() for part in value.split(".")):
            raise ValueError("must be a dotted module name such as 'package.module'")
        return value
    settings: dict[str, Any] = Field(default_factory=dict)


def _engine_table(cls: type) -> Any:
    """A gateway/traffic engine's settings dataclass built from its TOML table. pydantic checks the types
    (unknown keys refused through the dataclass's `__pydantic_config__`); the dataclass checks its ranges."""
    adapter = TypeAdapter(cls)
    return BeforeValidator(lambda value: adapter.validate_python(value, strict=False)
                           if isinstance(value, Mapping) else value)


class Settings(SettingsModel):
    limits: LimitsSettings = LimitsSettings()  # type: ignore[valid-type]
    caches: CacheSettings = CacheSettings()
    csrf: CsrfSettings = CsrfSettings()
    http_client: HttpClientSettings = HttpClientSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    cors: CorsSettings = CorsSettings()
    admin: AdminSettings = AdminSettings()
    introspection: bool = True
    # Where a null the subgraph data explains by itself (a null in a non-null field, an enum value the API
    # schema hides) is reported: "routers" puts it under extensions.valueCompletion, as Apollo Router does
    # (an `errors` entry makes Apollo Client drop the whole response); "strict" puts it in `errors`, as the
    # GraphQL specification's execution does. A value of the wrong kind is an error in both.
    value_completion: Literal["routers", "strict"] = "routers"
    # Lets a client ask for the plan with `Apollo-Expose-Query-Plan: true`; off in production.
    expose_query_plan: bool = False
    playground: bool = True
    # Directory holding the GraphiQL files (`python -m gateway.http.playground.fetch_assets`);
    # empty means the repository's var/playground.
    playground_assets_dir: str = ""
    subgraphs: dict[str, SubgraphOverride] = Field(default_factory=dict)
    auth: AuthSettings = AuthSettings()
    plugins: Annotated[tuple[PluginSettings, ...], Field(strict=False)] = ()
    # Traffic engines (gateway/traffic), each a plugin of the stage protocol; all on by default.
    demand_control: Annotated[DemandControlSettings, _engine_table(DemandControlSettings)] = DemandControlSettings()
    rate_limit: Annotated[RateLimitSettings, _engine_table(RateLimitSettings)] = RateLimitSettings()
    coalescing: Annotated[CoalescingSettings, _engine_table(CoalescingSettings)] = CoalescingSettings()
    response_cache: Annotated[ResponseCacheSettings, _engine_table(ResponseCacheSettings)] = ResponseCacheSettings()
    # Trusted documents and APQ for citizen apps (gateway/persisted, docs/partners.md).
    persisted_documents: PersistedDocumentsSettings = PersistedDocumentsSettings()
    # @tag-filtered schema variants served at /contracts/<name>/graphql (gateway/contracts, docs/partners.md).
    contracts: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")], ContractSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _subgraph_clients_valid(self) -> Settings:
        # each [subgraphs.<name>] table merged with [http_client] must itself be valid (e.g. its keep-alive)
        for name, override in self.subgraphs.items():
            try:
                override.client_settings(self.http_client)
            except ValidationError as error:
                raise ValueError(f"subgraphs.{name}: {describe_validation_error(error)}") from None
        return self

    def subgraph_url(self, name: str, default: str) -> str:
        override = self.subgraphs.get(name)
        return override.url if override and override.url else default

    def subgraph_client(self, *names: str) -> HttpClientSettings:
        """The client settings of one subgraph, known by any of `names` (declared name, enum name)."""
        for name in names:
            override = self.subgraphs.get(name)
            if override is not None:
                return override.client_settings(self.http_client)
        return self.http_client


def load_settings(path: str | Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a TOML file (defaults when `path` is None), with `KYODO__*` overrides applied."""
    data: dict[str, Any] = {}
    origin = "settings"
    if path is not None:
        file = Path(path)
        origin = str(file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"{file}: cannot read settings: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{file}: not valid TOML: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{file}: not valid TOML: {exc}") from None
    overrides = environment_overrides(os.environ if environ is None else environ)
    for key_path, (variable, value) in overrides.items():
        _set(data, key_path, value, origin, variable)
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        variables = {tuple(key_path): variable for key_path, (variable, _) in overrides.items()}
        raise SettingsError(f"{origin}: {describe_validation_error(error, variables)}") from None


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    """Settings from an already-parsed table (tests, embedding); no environment overrides."""
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


def environment_overrides(environ: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, Any]]:
    """`KYODO__A__B=value` -> {("a", "b"): ("KYODO__A__B", value read as TOML)}."""
    found: dict[tuple[str, ...], tuple[str, Any]] = {}
    for variable, raw in environ.items():
        if not variable.startswith(ENV_PREFIX) or len(variable) == len(ENV_PREFIX):
            continue
        key_path = tuple(part.lower() for part in variable[len(ENV_PREFIX):].split(ENV_SEPARATOR))
        found[key_path] = (variable, _toml_value(raw))
    return found


def _toml_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


def _set(data: dict[str, Any], key_path: tuple[str, ...], value: Any, origin: str, variable: str) -> None:
    table = data
    for depth, part in enumerate(key_path[:-1]):
        inner = table.setdefault(part, {})
        if not isinstance(inner, dict):
            where = ".".join(key_path[: depth + 1])
            raise SettingsError(f"{origin}: {variable}: {where} is not a table")
        table = inner
    table[key_path[-1]] = value


def describe_validation_error(error: ValidationError, variables: Mapping[tuple[str, ...], str] | None = None) -> str:
    """The first problem as `key.path[0].name: what is wrong` (+ how many more), on one line."""
    problems = error.errors(include_url=False)
    # A misspelt key also makes the real key "missing": name the misspelling first.
    first = min(problems, key=lambda problem: problem["type"] not in ("extra_forbidden", "unexpected_keyword_argument"))
    location = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    key = format_key(location)
    message = _MESSAGES.get(first["type"]) or first["msg"].replace("Input should be", "must be")
    if first["type"] == "value_error":
        message = first["msg"].removeprefix("Value error, ")
        # an engine's own range check names the key itself ("demand_control.max_cost must be ...")
        if key and message.startswith(key.split(".")[0] + "."):
            key = ""
    line = f"{key}: {message}" if key else message
    named = [variables[prefix] for prefix in _prefixes(location) if variables and prefix in variables]
    if named:
        line += f" (set by {named[-1]})"
    if len(problems) > 1:
        line += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return " ".join(line.split())


def format_key(location: list[Any] | tuple[Any, ...]) -> str:
    key = ""
    for part in location:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key


def _prefixes(location: list[Any]) -> list[tuple[str, ...]]:
    names = tuple(str(part) for part in location if not isinstance(part, int))
    return [names[:size] for size in range(1, len(names) + 1)]


_MESSAGES = {
    "unexpected_keyword_argument": "unknown key",
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "bool_type": "must be true or false",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}
