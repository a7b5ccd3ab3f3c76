"""The dev IdP's contracted-operator client (`kyodo-operator`, client credentials).

A local company runs the platforms under contract (issue 11 item 4): its token carries role `operator` and the
scopes `ops:<platform>` of the platforms it runs, no municipality, nothing that any personal-data rule accepts.
The subgraphs answer it only `<platform>Operations` (subgraphs/common/operations.py).
"""

from __future__ import annotations

import os

from auth.idp.clients import Client

OPERATOR_CLIENT_ID = "kyodo-operator"
OPERATOR_SCOPES = ("ops:childcare", "ops:safety", "ops:currency", "ops:identity")


def operator_client() -> Client:
    return Client(
        client_id=OPERATOR_CLIENT_ID,
        client_secret=os.environ.get("KYODO_IDP_OPERATOR_SECRET", "kyodo-operator-dev-secret"),
        grant_types=("client_credentials",),
        scopes=OPERATOR_SCOPES,
        default_scope=" ".join(OPERATOR_SCOPES),
        roles=("operator",),
    )
