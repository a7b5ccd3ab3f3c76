"""`kyodo serve --supergraph FILE | --subgraphs FILE [--config FILE] [--host] [--port] [--workers]`.

Loads (or composes) the supergraph and the settings first, so a bad file is one clear line on
stderr and exit status 2 before any server starts; then runs uvicorn with uvloop and httptools,
access log off.
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

from gateway.http.app import create_app
from gateway.http.runtime import tune_garbage_collector
from gateway.http.telemetry import check_settings as check_telemetry_settings
from gateway.http.telemetry import configure_request_log
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


def build_app(settings: Settings, supergraph: Any) -> Starlette:
    """The production app: the security engineer's authenticator and context token, and the
    authorization stage, each wired in when its module is present."""
    authenticator = context_headers = authorizer = policy_hook = None
    extra_routes: list[Any] = []
    closers: list[Any] = []
    security_module = _optional("gateway.security")
    if security_module is not None:
        security = security_module.GatewaySecurity(settings)
        authenticator = security.authenticate
        context_headers = security.context_headers
        policy_hook = security.policy_hook
        from starlette.routing import Route

        extra_routes.append(Route(security_module.CONTEXT_JWKS_PATH, security.jwks_endpoint, methods=["GET"]))
        closers.append(security.close)
    else:
        log.warning("gateway.security is not available: serving without authentication")
    authorization = _optional("gateway.authorization")
    if authorization is not None and hasattr(authorization, "authorize"):
        authorize = authorization.authorize

        def authorizer(supergraph: Any, document: Any, operation_name: Any, principal: Any) -> Any:
            # @policy decisions come from the hook named in [auth] policy_hook; without one, policies deny.
            return authorize(supergraph, document, operation_name, principal, policy_hook)
    return create_app(
        settings,
        supergraph,
        authenticator=authenticator,
        context_headers=context_headers,
        authorizer=authorizer,
        extra_routes=extra_routes,
        on_close=closers,
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
    return app


def serve_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(getattr(args, "config", None))
        check_telemetry_settings(settings.telemetry)
        sdl = read_supergraph_sdl(args)
        origin = args.supergraph or args.subgraphs
        supergraph = load_supergraph_text(sdl, origin)
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
    if workers == 1:
        configure_request_log(settings.telemetry)
        app = build_app(settings, supergraph)
        tune_garbage_collector(settings.runtime)
        uvicorn.run(app, **options)
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
    uvicorn.run("gateway.http.command:app_from_environment", factory=True, workers=workers, **options)
    return 0


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and module.startswith(error.name):
            return None
        raise


def _one_line(text: str) -> str:
    return " ".join(text.split())
