"""`linkServiceAccount`: a municipality's own service links its account id to the signed-in resident.

Identity can be co-used alone (Yabu's offer, issue 11 item 5). A member municipality registers its service as an
OIDC client (`kyodo co-use register-client CODE NAME` -> `muni-<code>-<name>`, auth/idp/registered_clients.py);
the resident signs in there with the My Number Card (card tap or card + PIN); with that token the service calls
this mutation. It links only when
* the caller is the resident, signed in by card (`acr` card-tap or card-pin), through a registered service client;
* the client belongs to the resident's own municipality (scoped: another city's service cannot link him);
* that municipality has joined identity (the personal-data rule, audited as a write).
A link is idempotent; one service account id cannot be moved to another resident, nor one resident linked
twice by one service. A service account id that looks like a My Number is refused; no card serial is seen here.
"""

# No `from __future__ import annotations`: strawberry reads these annotations as real types.
from datetime import datetime

import strawberry
from sqlalchemy import select
from strawberry.federation.schema_directives import Authenticated
from strawberry.types import Info

from auth.idp.registered_clients import municipality_of_client
from subgraphs.common.errors import BadUserInput, Conflict, Forbidden
from subgraphs.common.my_number_guard import refuse_my_number

from .access import authorize, load_resident, require_principal
from .clock import utc_now
from .service_link_models import ServiceAccountLink as LinkRow

CARD_SIGN_INS = ("card-tap", "card-pin")
MAX_ACCOUNT_ID = 64


@strawberry.type(description="a municipality's own service account linked to a resident")
class ServiceAccountLink:
    client_id: str = strawberry.field(description="the service's OIDC client (muni-<code>-<name>)")
    service_account_id: str
    resident_id: strawberry.ID
    linked_at: datetime


def _check_account_id(value: str) -> str:
    text = str(value).strip()
    if not text or len(text) > MAX_ACCOUNT_ID or not text.isascii() or not text.isprintable():
        raise BadUserInput(f"service account id: 1-{MAX_ACCOUNT_ID} printable ASCII characters",
                           field="serviceAccountId")
    refuse_my_number(text, "serviceAccountId")
    return text


@strawberry.type
class ServiceLinkMutation:
    @strawberry.mutation(description="link the calling service's account id to the resident signed in by card",
                         directives=[Authenticated()])
    async def link_service_account(self, info: Info, service_account_id: str) -> ServiceAccountLink:
        ctx = info.context
        principal = require_principal(ctx)
        account_id = _check_account_id(service_account_id)
        client_id = getattr(principal, "client_id", None)
        client_municipality = municipality_of_client(client_id)
        if client_municipality is None:
            raise Forbidden("only a municipality's registered service client links accounts")
        if "resident" not in principal.roles or principal.assurance not in CARD_SIGN_INS:
            raise Forbidden("the resident must be signed in with the My Number Card (card tap or card + PIN)")
        async with ctx.transaction() as session:
            resident = await load_resident(session, principal.subject, ctx)
            if resident.municipality_code != client_municipality:
                raise Forbidden("this service belongs to another municipality; it links only its own residents")
            await authorize(ctx, session, resident, fields=["serviceAccountLink"],
                            purpose=f"link service account of {client_id}", write=True)
            existing = (await session.execute(select(LinkRow).where(
                LinkRow.client_id == client_id, LinkRow.service_account_id == account_id))).scalar_one_or_none()
            mine = (await session.execute(select(LinkRow).where(
                LinkRow.client_id == client_id, LinkRow.resident_id == resident.id))).scalar_one_or_none()
            if existing is not None and existing.resident_id != resident.id:
                raise Conflict("this service account is linked to another resident", field="serviceAccountId")
            if mine is not None and mine.service_account_id != account_id:
                raise Conflict("this resident is linked to another account of this service", field="serviceAccountId")
            row = existing or LinkRow(client_id=client_id, service_account_id=account_id, resident_id=resident.id,
                                      linked_at=utc_now())
            session.add(row)
            await session.flush()
        return ServiceAccountLink(client_id=row.client_id, service_account_id=row.service_account_id,
                                  resident_id=strawberry.ID(row.resident_id), linked_at=row.linked_at)
