"""One-stop applications: idempotent submission, staff completion, one currency grant request."""

from __future__ import annotations

from sqlalchemy import func, select

from subgraphs.common.roster import STAFF, by_label
from subgraphs.identity.models import Application, CurrencyGrantRequest
from tests.subgraphs.conftest import resident_principal, staff_principal

SUBMIT = """mutation($k: ApplicationKind!, $key: String!) { submitApplication(kind: $k, idempotencyKey: $key) {
  id kind status } }"""
COMPLETE = """mutation($id: ID!) { completeApplication(applicationId: $id) { id status
  currencyGrant { idempotencyKey activity points status } } }"""
YUMI = by_label("kasai-1/yumi")             # 加西市 resident


def _kasai_identity_staff():  # noqa: ANN202
    from tests.subgraphs.conftest import make_principal

    return make_principal("s-kasai-counter", "282201", ("staff",), ("identity:read", "identity:write"))


async def test_submission_is_idempotent_and_completion_requests_one_grant(call, identity_db):
    me = resident_principal(YUMI)
    first = await call(SUBMIT, {"k": "CHILD_ALLOWANCE", "key": "yumi-2026-11-26-a"}, principal=me)
    retry = await call(SUBMIT, {"k": "CHILD_ALLOWANCE", "key": "yumi-2026-11-26-a"}, principal=me)
    app = first["data"]["submitApplication"]
    assert retry["data"]["submitApplication"] == app and app["status"] == "submitted"
    clash = await call(SUBMIT, {"k": "BULKY_WASTE", "key": "yumi-2026-11-26-a"}, principal=me)
    assert clash["errors"][0]["extensions"]["code"] == "CONFLICT"

    done = await call(COMPLETE, {"id": app["id"]}, principal=_kasai_identity_staff())
    again = await call(COMPLETE, {"id": app["id"]}, principal=_kasai_identity_staff())
    grant = {"idempotencyKey": f"identity:application:{app['id']}", "activity": "online-application",
             "points": None, "status": "pending"}   # the amount is currency's answer, not identity's
    assert done["data"]["completeApplication"] == {"id": app["id"], "status": "completed", "currencyGrant": grant}
    assert again["data"]["completeApplication"]["currencyGrant"] == grant
    async with identity_db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(CurrencyGrantRequest))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(Application))).scalar_one() == 1


async def test_only_staff_of_the_applicants_city_complete(call):
    me = resident_principal(YUMI)
    app = (await call(SUBMIT, {"k": "MOVING_NOTICE", "key": "yumi-moving-0001"}, principal=me))["data"]["submitApplication"]
    yabu = staff_principal(next(s for s in STAFF if s.municipality_code == "282227" and "identity:write" in s.scopes))
    for principal in (me, yabu, None):
        body = await call(COMPLETE, {"id": app["id"]}, principal=principal)
        assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}


async def test_bad_application_input(call, identity_db):
    me = resident_principal(YUMI)
    for variables in ({"k": "CHILD_ALLOWANCE", "key": "short"}, {"k": "CHILD_ALLOWANCE", "key": "キー" * 10}):
        body = await call(SUBMIT, variables, principal=me)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await call(SUBMIT, {"k": "LOTTERY", "key": "yumi-lottery-01"}, principal=me)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await call(COMPLETE, {"id": "app-nope"}, principal=_kasai_identity_staff())
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    async with identity_db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Application))).scalar_one() == 0
