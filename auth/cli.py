"""Subcommands of this package for the `kyodo` command (see kyodo/cli.py): `kyodo idp`, `kyodo token`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _idp(args: argparse.Namespace) -> int:
    import uvicorn

    from auth.idp.app import create_idp_app

    issuer = args.issuer or f"http://{args.host}:{args.port}"
    state_dir = _state_dir(args)
    app = create_idp_app(issuer, audience=args.audience, state_dir=state_dir)
    print(f"kyodo dev IdP at {issuer} (audience {args.audience}); discovery: {issuer}/.well-known/openid-configuration")
    print(f"state (dev card authority) in {state_dir}; signing keys live in memory: tokens issued before a "
          "restart stop verifying, sign in again")
    # never the token itself in a log line: it is in a 0600 file (auth/idp/app.py write_admin_token)
    token_file = app.state.admin_token_file
    print(f"rotate the signing key: curl -X POST -H \"Authorization: Bearer $(cat {token_file})\" "
          f"{issuer}/admin/rotate-key")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _state_dir(args: argparse.Namespace) -> Path:
    """--state-dir, else <KYODO_HOME>/var/idp (the same directory whatever the current directory is)."""
    from kyodo.home import var_dir

    return Path(args.state_dir) if args.state_dir else var_dir() / "idp"


def _token(args: argparse.Namespace) -> int:
    """Print an access token for a demo account (stdout: the token only), or list the accounts."""
    import asyncio

    from auth.dev_token import DevTokenError, demo_accounts, dev_token, vendor_scopes
    from auth.dev_token_table import account_table

    if args.list:
        try:
            print(account_table(demo_accounts(), vendor_scopes()), flush=True)
        except BrokenPipeError:  # `kyodo token --list | head`
            sys.stdout = open(os.devnull, "w")
        return 0
    try:
        token = asyncio.run(dev_token(args.issuer, resident=args.resident, staff=args.staff, vendor=args.vendor,
                                      card=args.card, trial=args.trial, state_dir=_state_dir(args)))
    except DevTokenError as error:
        print(f"kyodo token: {error}", file=sys.stderr)
        return 2
    print(token)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands; each sets `func` to a callable taking the parsed args."""
    idp = subparsers.add_parser("idp", help="run the dev identity provider (OIDC, demo residents and staff)")
    idp.add_argument("--host", default="127.0.0.1")
    idp.add_argument("--port", type=int, default=4400)
    idp.add_argument("--issuer", default=None, help="issuer URL (default http://HOST:PORT)")
    idp.add_argument("--audience", default="urn:kyodo:gateway", help="the 'aud' of issued access tokens")
    idp.add_argument("--state-dir", default=None,
                     help="where the dev card authority is kept (default: $KYODO_HOME/var/idp)")
    idp.set_defaults(func=_idp)

    token = subparsers.add_parser(
        "token", help="print an access token from the running dev IdP for a demo account",
        description="Print an access token from a running dev IdP, e.g. "
                    "curl -H \"Authorization: Bearer $(kyodo token --resident ID)\" …",
    )
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--resident", metavar="ID", help="a roster resident (code + PKCE with the dev password)")
    who.add_argument("--staff", metavar="ID", help="a staff member (code + PKCE with the dev password)")
    who.add_argument("--vendor", action="store_true", help="the demo vendor (client credentials)")
    who.add_argument("--card", metavar="ID", help="a resident's demo card tapped at the card reader")
    who.add_argument("--trial", metavar="CODE", help="the synthetic trial guardian of a municipality (試用 sandbox "
                                                    "only; role trial)")
    who.add_argument("--list", action="store_true", help="list the demo accounts: id, name, municipality, roles, card, scopes")
    token.add_argument("--issuer", default="http://127.0.0.1:4400", help="the dev IdP (default %(default)s)")
    token.add_argument("--state-dir", default=None,
                       help="the IdP's state dir, holding the dev card authority (for --card; "
                            "default: $KYODO_HOME/var/idp)")
    token.set_defaults(func=_token)
