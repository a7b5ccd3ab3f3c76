"""Subcommands of this package for the `kyodo` command (see kyodo/cli.py): `kyodo idp`."""

from __future__ import annotations

import argparse


def _idp(args: argparse.Namespace) -> int:
    import uvicorn

    from auth.idp.app import create_idp_app

    issuer = args.issuer or f"http://{args.host}:{args.port}"
    app = create_idp_app(issuer, audience=args.audience, state_dir=args.state_dir)
    print(f"kyodo dev IdP at {issuer} (audience {args.audience}); discovery: {issuer}/.well-known/openid-configuration")
    import os

    token_hint = "$KYODO_IDP_ADMIN_TOKEN" if os.environ.get("KYODO_IDP_ADMIN_TOKEN") else app.state.admin_token
    print(f"rotate the signing key: curl -X POST -H 'Authorization: Bearer {token_hint}' {issuer}/admin/rotate-key")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands; each sets `func` to a callable taking the parsed args."""
    idp = subparsers.add_parser("idp", help="run the dev identity provider (OIDC, demo residents and staff)")
    idp.add_argument("--host", default="127.0.0.1")
    idp.add_argument("--port", type=int, default=4400)
    idp.add_argument("--issuer", default=None, help="issuer URL (default http://HOST:PORT)")
    idp.add_argument("--audience", default="urn:kyodo:gateway", help="the 'aud' of issued access tokens")
    idp.add_argument("--state-dir", default="var/idp", help="where the dev card authority is kept")
    idp.set_defaults(func=_idp)
