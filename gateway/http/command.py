"""`kyodo serve --supergraph FILE | --subgraphs FILE [--config FILE] [--host] [--port] [--workers]`.

Loads (or composes) the supergraph and the settings, and builds the whole app, first: a bad file,
a missing module or a security stage that cannot start is one clear line on stderr and exit
status 2 before any server starts. Then runs uvicorn with uvloop and httptools, access log off.

Fail closed: authentication (gateway.security) and authorization (gateway.authorization) are
required. If either cannot be imported or set up, or `[auth]` names no issuer without saying
`anonymous_only = true`, the gateway does not start; there is no "serve without authentication".
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from gateway.http.admin import bind_socket, wrap_for_admin
from gateway.http.app import create_app
from gateway.http.runtime import tune_garbage_collector
from gateway.plugins.context_token import ContextTokenPlugin
from gateway.plugins.request_log import configure_request_log
from gateway.settings import Settings, SettingsError, load_settings

log = logging.getLogger("kyodo.gateway.serve")

# For --workers > 1 each uvicorn worker rebuilds the app from these (it cannot be pickled).
ENV_SUPERGRAPH = "KYODO_SERVE_SUPERGRAPH_FILE"
ENV_CONFIG = "KYODO_SERVE_CONFIG_FILE"


class ServeError(Exception):
    """A problem with the command's inputs, reported as one line."""


def read_supergraph_sdl(args: argparse.Namespace) -> str:
    if getattr(args, "supergraph", None):
        try:
            return Path(args.supergraph).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ServeError(f"cannot read supergraph {args.supergraph}: {getattr(error, 'strerror', None) or error}")
    if getattr(args, "subgraphs", None):
        from gateway.composition import CompositionError, compose_from_config

        try:
            return compose_from_config(args.subgraphs)
        except CompositionError as error:
            raise ServeError(f"cannot compose {args.subgraphs}: {error}")
        except OSError as error:
            raise ServeError(f"cannot read {args.subgraphs}: {error.strerror or error}")
    raise ServeError("give the supergraph: --supergraph FILE or --subgraphs FILE")


def load_supergraph_text(sdl: str, origin: str) -> Any:
    from gateway.supergraph import SupergraphError, load_supergraph

    try:
        return load_supergraph(sdl)
    except SupergraphError as error:
        raise ServeError(f"{origin}: {_one_line(str(error))}")


def required_stages() -> tuple[Any, Any]:
    """gateway.security and gateway.authorization; a ServeError (never a fallback) if either is missing."""
    modules = []
    for name in ("gateway.security", "gateway.authorization"):
        try:
            modules.append(importlib.import_module(name))
        except Exception as error:  # ImportError, or the module failing as it loads
            raise ServeError(
                f"{name} is required (authentication and authorization are not optional) but cannot be "
                f"imported: {type(error).__name__}: {error}"
            ) from None
    return modules[0], modules[1]


def check_auth(settings: Settings) -> None:
    """A gateway trusting no issuer must say so: `[auth] anonymous_only = true`."""
    auth = settings.auth
    if not auth.issuers and not auth.anonymous_only:
        raise ServeError(
            "auth: no token issuer is configured: add [[auth.issuers]], or set [auth] anonymous_only = true "
            "to serve open data only"
        )


def build_app(settings: Settings, supergraph: Any) -> Starlette:
    """The production app: the security stage (authenticator + context token) and the authorization
    stage are always wired in; anything they need that is missing raises, so nothing is served."""
    security_module, authorization = required_stages()
    try:
        security = security_module.GatewaySecurity(settings)
    except SettingsError:
        raise
    except Exception as error:  # the context key file, the policy hook module...
        raise ServeError(f"auth: the security stage cannot start: {type(error).__name__}: {error}") from None
    authorize = getattr(authorization, "authorize", None)
    if not callable(authorize):
        raise ServeError("gateway.authorization is required but has no authorize()")
    policy_hook = security.policy_hook

    def authorizer(supergraph: Any, document: Any, operation_name: Any, principal: Any) -> Any:
        # @policy decisions come from the hook named in [auth] policy_hook; without one, policies deny.
        return authorize(supergraph, document, operation_name, principal, policy_hook)

    if settings.auth.anonymous_only:
        log.warning(
            "[auth] anonymous_only = true: NO token issuer is trusted; only open data is served and "
            "every request carrying a token is refused"
        )
    return create_app(
        settings,
        supergraph,
        authenticator=security.authenticate,
        authorizer=authorizer,
        plugins=[ContextTokenPlugin(security.context_headers, security)],
    )


def app_from_environment() -> Starlette:
    """uvicorn factory for worker processes (`--workers N`)."""
    config = os.environ.get(ENV_CONFIG) or None
    supergraph_file = os.environ[ENV_SUPERGRAPH]
    settings = load_settings(config)
    configure_request_log(settings.telemetry)
    supergraph = load_supergraph_text(Path(supergraph_file).read_text(encoding="utf-8"), supergraph_file)
    app = build_app(settings, supergraph)
    tune_garbage_collector(settings.runtime)
    if settings.admin.port:
        return wrap_for_admin(app, settings.admin.port)
    return app


def serve_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(getattr(args, "config", None))
        sdl = read_supergraph_sdl(args)
        origin = args.supergraph or args.subgraphs
        supergraph = load_supergraph_text(sdl, origin)
        check_auth(settings)
        configure_request_log(settings.telemetry)
        # Built here even for --workers N (each worker builds its own): whatever cannot start fails now.
        app = build_app(settings, supergraph)
    except (ServeError, SettingsError) as error:
        print(f"kyodo serve: {_one_line(str(error))}", file=sys.stderr)
        return 2

    import uvicorn

    options: dict[str, Any] = dict(
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        server_header=False,
        lifespan="on",
        log_level="info",
    )
    workers = max(1, int(getattr(args, "workers", 1) or 1))
    admin = settings.admin
    sockets = None
    if admin.port:
        # One server, two listeners: the admin port answers /metrics and /health only.
        try:
            sockets = [bind_socket(args.host, args.port), bind_socket(admin.host, admin.port)]
        except OSError as error:
            print(f"kyodo serve: cannot listen on {args.host}:{args.port} and admin "
                  f"{admin.host}:{admin.port}: {error.strerror or error}", file=sys.stderr)
            return 2
        log.info("admin listener (/metrics, /health) on http://%s:%d", admin.host, admin.port)
    if workers == 1:
        tune_garbage_collector(settings.runtime)
        if sockets is None:
            uvicorn.run(app, **options)
        else:
            uvicorn.Server(uvicorn.Config(wrap_for_admin(app, admin.port), **options)).run(sockets=sockets)
        return 0
    if args.supergraph:
        supergraph_file = str(Path(args.supergraph).resolve())
    else:
        # Composed once here, so every worker serves the same supergraph.
        handle = tempfile.NamedTemporaryFile("w", suffix=".graphql", prefix="kyodo-supergraph-", delete=False)
        with handle:
            handle.write(sdl)
        supergraph_file = handle.name
    os.environ[ENV_SUPERGRAPH] = supergraph_file
    os.environ[ENV_CONFIG] = str(Path(args.config).resolve()) if args.config else ""
    if sockets is None:
        uvicorn.run("gateway.http.command:app_from_environment", factory=True, workers=workers, **options)
        return 0
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("gateway.http.command:app_from_environment", factory=True, workers=workers, **options)
    Multiprocess(config, sockets=sockets).run()
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())
