"""currency over GraphQL: balances, grants under caps, payments earliest-expiring first, expiry entries,
idempotency, bad input, and who may do what — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from auth.gateway_keys import generate_signing_key
from subgraphs.common.audit import AuditRecord
from subgraphs.common.roster import STAFF, by_label
from subgraphs.currency import clock
from tests.subgraphs.conftest import make_principal, resident_principal, staff_principal
from tests.subgraphs.currency.ledger_checks import ledger_state

TODAY = date(2026, 11, 26)
DAISUKE = by_label("kasai-1/daisuke")     # adult in 加西市: 900 pt from the seed
YUMI = by_label("kasai-1/yumi")
YUMA = by_label("kasai-1/yuma")           # their son
SHOTA = by_label("kasai-2/shota")
KENICHI = by_label("taka-1/kenichi")      # 多可町 has not joined currency
KASAI_STAFF = next(s for s in STAFF if s.municipality_code == "282201" and "currency:write" in s.scopes)
HIMEJI_CURRENCY_STAFF = make_principal("s-himeji-currency", "282014", ("staff",), ("currency:read", "currency:write"))
VENDOR = make_principal("client-hojo-greengrocer", "282201", ("vendor",), ("currency:read", "currency:write"))
INTEGRATION = make_principal("client-identity-applications", None, ("device",), ("currency:grant",))

ACCOUNT = """query($id: ID!) { _entities(representations: [{__typename: "Resident", id: $id}]) {
  ... on Resident { pointAccount { residentId balance municipality { code }
    lots { grantedOn expiresOn original remaining } ledger(limit: 100) { kind amount balanceAfter } } } } }"""
GRANT = """mutation($input: GrantPointsInput!) { grantPoints(input: $input) {
  entryId kind residentId amount balance bookedOn activityCode cappedBy expiresOn replayed } }"""
SPEND = """mutation($input: SpendPointsInput!) { spendPoints(input: $input) {
  entryId kind amount balance merchantId draws { amount expiresOn } replayed } }"""


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """Caps and expiry depend on the date: pin it (tests that move time call set_today)."""
    def set_today(day: date) -> None:
        monkeypatch.setattr(clock, "today", lambda rules: day)

    set_today(TODAY)
    return set_today


def account_of(body: dict) -> dict:
    assert "errors" not in body, body
    return body["data"]["_entities"][0]["pointAccount"]


# --- reading -------------------------------------------------------------------------------------------------

async def test_holder_reads_balance_lots_and_ledger(call, currency_db):
    account = account_of(await call(ACCOUNT, {"id": DAISUKE.id}, principal=resident_principal(DAISUKE)))
    assert (account["residentId"], account["balance"], account["municipality"]) == (DAISUKE.id, 900, {"code": "282201"})
    # earliest-expiring first: the two walking lots (180 days), then fiscal-year-end lots, then 365 days
    assert [(l["expiresOn"], l["remaining"]) for l in account["lots"]] == [
        ("2027-02-27", 50), ("2027-02-28", 50), ("2027-03-31", 500), ("2027-03-31", 100), ("2027-07-04", 200)]
    assert sum(e["amount"] for e in account["ledger"] if e["kind"] == "GRANT") == 900
    state = await ledger_state(currency_db, DAISUKE.id)
    assert state.invariant_holds and state.balance == 900


@pytest.mark.parametrize("who", ["holder", "guardian", "staff of the city"])
async def test_permitted_readers(call, currency_db, who):
    holder = YUMA if who == "guardian" else DAISUKE
    principal = {"holder": resident_principal(DAISUKE), "guardian": resident_principal(YUMI),
                 "staff of the city": staff_principal(KASAI_STAFF)}[who]
    account = account_of(await call(ACCOUNT, {"id": holder.id}, principal=principal))
    assert account["residentId"] == holder.id
    async with currency_db.sessions() as session:
        last = (await session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()))).scalars().first()
    assert (last.actor, last.subject, last.result) == (principal.subject, holder.id, "permitted")


@pytest.mark.parametrize("who, code", [
    ("another resident", "FORBIDDEN"),
    ("staff of another city", "FORBIDDEN"),
    ("vendor", "FORBIDDEN"),
    ("anonymous", "UNAUTHENTICATED"),
    ("forged context", "UNAUTHENTICATED"),
    ("context for another subgraph", "UNAUTHENTICATED"),
])
async def test_everyone_else_reads_nothing(call, mint_context, who, code):
    from auth.context_token import sign_context

    kwargs = {
        "another resident": {"principal": resident_principal(SHOTA)},
        "staff of another city": {"principal": HIMEJI_CURRENCY_STAFF},
        "vendor": {"principal": VENDOR},
        "anonymous": {},
        "forged context": {"token": sign_context(resident_principal(DAISUKE), "currency", generate_signing_key())},
        "context for another subgraph": {"token": mint_context(resident_principal(DAISUKE), "childcare")},
    }[who]
    body = await call(ACCOUNT, {"id": DAISUKE.id}, **kwargs)
    assert body["errors"][0]["extensions"]["code"] == code
    assert "900" not in str(body.get("data"))


async def test_municipality_that_has_not_joined_is_refused(call):
    body = await call(ACCOUNT, {"id": KENICHI.id}, principal=resident_principal(KENICHI))
    assert body["errors"][0]["extensions"]["code"] == "PLATFORM_NOT_JOINED"
    joined = await call('{ _entities(representations: [{__typename: "Municipality", code: "282201"}, '
                        '{__typename: "Municipality", code: "283657"}]) { ... on Municipality { code currencyJoined } } }')
    assert joined["data"]["_entities"] == [{"code": "282201", "currencyJoined": True},
                                           {"code": "283657", "currencyJoined": False}]


# --- grants, caps, idempotency ----------------------------------------------------------------------------------

def grant_input(key: str, activity: str = "ONLINE_APPLICATION", resident=DAISUKE, **extra) -> dict:  # noqa: ANN001
    return {"input": {"residentId": resident.id, "activity": activity, "idempotencyKey": key, **extra}}


async def test_staff_grant_then_retry_returns_the_same_result(call, currency_db):
    first = await call(GRANT, grant_input("app-2026-0001", reference="app-2026-0001"), principal=staff_principal(KASAI_STAFF))
    assert "errors" not in first, first
    result = first["data"]["grantPoints"]
    assert (result["kind"], result["amount"], result["balance"], result["bookedOn"], result["expiresOn"],
            result["replayed"]) == ("GRANT", 100, 1000, "2026-11-26", "2027-03-31", False)
    retry = await call(GRANT, grant_input("app-2026-0001", reference="app-2026-0001"), principal=staff_principal(KASAI_STAFF))
    assert retry["data"]["grantPoints"] == {**result, "replayed": True}
    state = await ledger_state(currency_db, DAISUKE.id)
    assert (state.balance, state.grants, state.idempotency_records) == (1000, 1000, 1)
    assert state.invariant_holds


async def test_same_key_for_a_different_request_is_refused(call, currency_db):
    await call(GRANT, grant_input("k-1"), principal=staff_principal(KASAI_STAFF))
    before = await ledger_state(currency_db, DAISUKE.id)
    body = await call(GRANT, grant_input("k-1", activity="VOLUNTEER"), principal=staff_principal(KASAI_STAFF))
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    spend = await call(SPEND, {"input": {"residentId": DAISUKE.id, "merchantId": "282201:M001", "amount": 10,
                                         "idempotencyKey": "k-1"}}, principal=resident_principal(DAISUKE))
    assert spend["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await ledger_state(currency_db, DAISUKE.id) == before


async def test_integration_client_grants(call):
    # identity's grant requests name the activity "online-application" and key "identity:application:<id>"
    body = await call(GRANT, grant_input("identity:application:app-123", activity="online-application",
                                         resident=SHOTA, reference="app-123"), principal=INTEGRATION)
    assert (body["data"]["grantPoints"]["activityCode"], body["data"]["grantPoints"]["amount"]) == (
        "ONLINE_APPLICATION", 100)


async def test_daily_cap_clips_then_refuses(call, currency_db):
    staff = staff_principal(KASAI_STAFF)
    amounts = []
    for n in range(3):
        body = await call(GRANT, grant_input(f"daily-{n}"), principal=staff)
        amounts.append((body["data"]["grantPoints"]["amount"], body["data"]["grantPoints"]["cappedBy"]))
    assert amounts == [(100, None), (100, None), (100, None)]           # 300 a day
    before = await ledger_state(currency_db, DAISUKE.id)
    refused = await call(GRANT, grant_input("daily-3"), principal=staff)
    assert refused["errors"][0]["extensions"] == {"code": "CAP_REACHED", "cap": "daily"}
    assert await ledger_state(currency_db, DAISUKE.id) == before
    yesterday = await call(GRANT, grant_input("daily-4", occurredOn="2026-11-25"), principal=staff)
    assert yesterday["data"]["grantPoints"]["amount"] == 100             # another day, room again


async def test_yearly_cap(call):
    staff = staff_principal(KASAI_STAFF)
    for n, day in enumerate(("2026-11-24", "2026-11-25")):
        body = await call(GRANT, grant_input(f"drill-{n}", activity="DISASTER_DRILL", occurredOn=day), principal=staff)
        assert body["data"]["grantPoints"]["amount"] == 300
    refused = await call(GRANT, grant_input("drill-2", activity="DISASTER_DRILL"), principal=staff)
    assert refused["errors"][0]["extensions"]["cap"] == "yearly"


async def test_partial_grant_up_to_the_daily_cap(call):
    # HEALTH_CHECKUP: 500 a grant, 500 a day; the seed granted 500 on 2026-06-10 and the yearly cap is 1000
    staff = staff_principal(KASAI_STAFF)
    body = await call(GRANT, grant_input("hc-1", activity="HEALTH_CHECKUP"), principal=staff)
    assert (body["data"]["grantPoints"]["amount"], body["data"]["grantPoints"]["cappedBy"]) == (500, None)
    again = await call(GRANT, grant_input("hc-2", activity="HEALTH_CHECKUP", occurredOn="2026-11-20"), principal=staff)
    assert again["errors"][0]["extensions"]["cap"] == "yearly"


# --- spending ------------------------------------------------------------------------------------------------

def spend_input(key: str, amount: int, resident=DAISUKE, merchant: str = "282201:M001") -> dict:  # noqa: ANN001
    return {"input": {"residentId": resident.id, "merchantId": merchant, "amount": amount, "idempotencyKey": key}}


async def test_spend_uses_earliest_expiring_points_first(call, currency_db):
    body = await call(SPEND, spend_input("pay-1", 120), principal=resident_principal(DAISUKE))
    assert "errors" not in body, body
    result = body["data"]["spendPoints"]
    assert (result["kind"], result["amount"], result["balance"], result["merchantId"]) == ("SPEND", 120, 780, "282201:M001")
    assert result["draws"] == [{"amount": 50, "expiresOn": "2027-02-27"}, {"amount": 50, "expiresOn": "2027-02-28"},
                               {"amount": 20, "expiresOn": "2027-03-31"}]
    retry = await call(SPEND, spend_input("pay-1", 120), principal=resident_principal(DAISUKE))
    assert retry["data"]["spendPoints"] == {**result, "replayed": True}
    state = await ledger_state(currency_db, DAISUKE.id)
    assert (state.balance, state.spends) == (780, 120) and state.invariant_holds


async def test_overdraft_is_refused_and_nothing_changes(call, currency_db):
    before = await ledger_state(currency_db, DAISUKE.id)
    body = await call(SPEND, spend_input("pay-big", 901), principal=resident_principal(DAISUKE))
    assert body["errors"][0]["extensions"] == {"code": "INSUFFICIENT_POINTS", "available": 900}
    assert await ledger_state(currency_db, DAISUKE.id) == before
    exact = await call(SPEND, spend_input("pay-all", 900), principal=resident_principal(DAISUKE))
    assert exact["data"]["spendPoints"]["balance"] == 0
    after = await call(SPEND, spend_input("pay-one-more", 1), principal=resident_principal(DAISUKE))
    assert after["errors"][0]["extensions"]["code"] == "INSUFFICIENT_POINTS"
    assert (await ledger_state(currency_db, DAISUKE.id)).balance == 0


async def test_expired_points_are_booked_and_cannot_be_spent(call, currency_db, fixed_today):
    fixed_today(date(2027, 2, 28))                      # the first walking lot (last day 2027-02-27) has expired
    body = await call(SPEND, spend_input("pay-feb", 60), principal=resident_principal(DAISUKE))
    assert body["data"]["spendPoints"]["draws"] == [{"amount": 50, "expiresOn": "2027-02-28"},
                                                    {"amount": 10, "expiresOn": "2027-03-31"}]
    assert body["data"]["spendPoints"]["balance"] == 900 - 50 - 60
    fixed_today(date(2027, 4, 1))                       # fiscal-year-end lots are gone; the 365-day lot stays
    account = account_of(await call(ACCOUNT, {"id": DAISUKE.id}, principal=resident_principal(DAISUKE)))
    assert account["balance"] == 200
    assert [(l["expiresOn"], l["remaining"]) for l in account["lots"]] == [("2027-07-04", 200)]
    totals = await call('query($id: ID!) { pointAccount(residentId: $id) { balance totals { granted spent expired } } }',
                        {"id": DAISUKE.id}, principal=resident_principal(DAISUKE))
    assert totals["data"]["pointAccount"] == {"balance": 200, "totals": {"granted": 900, "spent": 60, "expired": 640}}
    expiries = [e for e in account["ledger"] if e["kind"] == "EXPIRE"]
    assert sorted(e["amount"] for e in expiries) == [50, 100, 490]
    state = await ledger_state(currency_db, DAISUKE.id)
    assert (state.grants, state.spends, state.expiries, state.balance) == (900, 60, 640, 200)
    assert state.invariant_holds


# --- bad input: an error with a code, and nothing stored changes ----------------------------------------------------

@pytest.mark.parametrize("variables, code", [
    (spend_input("bad-1", 0), "BAD_USER_INPUT"),
    (spend_input("bad-2", -5), "BAD_USER_INPUT"),
    (spend_input("bad-3", 100001), "BAD_USER_INPUT"),
    (spend_input("bad-4", 2 ** 40), "BAD_USER_INPUT"),                 # not a GraphQL Int
    (spend_input("bad-5", 10, merchant="282202:M001"), "BAD_USER_INPUT"),   # check digit wrong
    (spend_input("bad-6", 10, merchant="M001"), "BAD_USER_INPUT"),
    (spend_input("bad-7", 10, merchant="282201:M999"), "NOT_FOUND"),
    (spend_input("bad-8", 10, merchant="282201:M003"), "NOT_FOUND"),    # no longer a member
    (spend_input("", 10), "BAD_USER_INPUT"),
    (spend_input("has space", 10), "BAD_USER_INPUT"),
    ({"input": {**spend_input("bad-9", 10)["input"], "residentId": "r-?"}}, "BAD_USER_INPUT"),
    ({"input": {**spend_input("bad-10", 10)["input"], "amount": "ten"}}, "BAD_USER_INPUT"),
])
async def test_bad_spend_input(call, currency_db, variables, code):
    before = await ledger_state(currency_db, DAISUKE.id)
    body = await call(SPEND, variables, principal=resident_principal(DAISUKE))
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert "Traceback" not in str(body) and body.get("data") is None
    assert await ledger_state(currency_db, DAISUKE.id) == before


@pytest.mark.parametrize("extra, code", [
    ({"activity": "SLEEPING"}, "BAD_USER_INPUT"),
    ({"occurredOn": "2026-11-27"}, "BAD_USER_INPUT"),     # the future
    ({"occurredOn": "2026-10-01"}, "BAD_USER_INPUT"),     # older than 30 days
    ({"occurredOn": "2026-13-01"}, "BAD_USER_INPUT"),     # not a date
    ({"reference": "x" * 200}, "BAD_USER_INPUT"),
    ({"residentId": "r-000000000000"}, "NOT_FOUND"),
])
async def test_bad_grant_input(call, currency_db, extra, code):
    before = await ledger_state(currency_db, DAISUKE.id)
    variables = grant_input("bad-grant")
    variables["input"].update(extra)
    body = await call(GRANT, variables, principal=staff_principal(KASAI_STAFF))
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert await ledger_state(currency_db, DAISUKE.id) == before


# --- who may change an account --------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, code", [
    ("another resident", "FORBIDDEN"),
    ("guardian", "FORBIDDEN"),
    ("staff of the city", "FORBIDDEN"),
    ("vendor", "FORBIDDEN"),
    ("anonymous", "UNAUTHENTICATED"),
    ("forged context", "UNAUTHENTICATED"),
])
async def test_only_the_holder_spends(call, currency_db, who, code):
    from auth.context_token import sign_context

    kwargs = {"another resident": {"principal": resident_principal(SHOTA)},
              "guardian": {"principal": resident_principal(YUMI)},
              "staff of the city": {"principal": staff_principal(KASAI_STAFF)},
              "vendor": {"principal": VENDOR},
              "anonymous": {},
              "forged context": {"token": sign_context(resident_principal(DAISUKE), "currency",
                                                       generate_signing_key())}}[who]
    before = await ledger_state(currency_db, DAISUKE.id)
    body = await call(SPEND, spend_input("steal", 100), **kwargs)
    assert body["errors"][0]["extensions"]["code"] == code
    assert await ledger_state(currency_db, DAISUKE.id) == before


@pytest.mark.parametrize("who, code", [
    ("the holder", "FORBIDDEN"),
    ("staff of another city", "FORBIDDEN"),
    ("staff without write", "FORBIDDEN"),
    ("vendor", "FORBIDDEN"),
    ("anonymous", "UNAUTHENTICATED"),
])
async def test_only_staff_or_integration_grant(call, currency_db, who, code):
    principal = {"the holder": resident_principal(DAISUKE), "staff of another city": HIMEJI_CURRENCY_STAFF,
                 "staff without write": make_principal("s-kasai-ro", "282201", ("staff",), ("currency:read",)),
                 "vendor": make_principal("client-x", "282201", ("vendor",), ("currency:grant",)),
                 "anonymous": None}[who]
    before = await ledger_state(currency_db, DAISUKE.id)
    body = await call(GRANT, grant_input("self-grant"), principal=principal)
    assert body["errors"][0]["extensions"]["code"] == code
    assert await ledger_state(currency_db, DAISUKE.id) == before


async def test_open_account_is_idempotent(call):
    body = await call("mutation { openPointAccount { residentId balance } }", principal=resident_principal(SHOTA))
    assert body["data"]["openPointAccount"] == {"residentId": SHOTA.id, "balance": 900}


async def test_merchants_are_public(call):
    body = await call('{ merchants(municipalityCode: "28220") { id name category } '
                      'merchant(id: "282201:M002") { name active } earningRules { code points dailyCap expiry } }')
    assert [m["id"] for m in body["data"]["merchants"]] == ["282201:M001", "282201:M002"]
    assert body["data"]["merchant"] == {"name": "ふるさかベーカリー", "active": True}
    assert {"code": "WALKING_GOAL", "points": 50, "dailyCap": 50, "expiry": "180d"} in body["data"]["earningRules"]
    bad = await call('{ merchant(id: "99999:x") { name } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_staff_read_their_municipalitys_audit_log(call):
    await call(ACCOUNT, {"id": DAISUKE.id}, principal=resident_principal(DAISUKE))
    query = "{ currencyAuditLog(limit: 5) { actor subject subjectMunicipality result fields } }"
    body = await call(query, principal=staff_principal(KASAI_STAFF))
    latest = body["data"]["currencyAuditLog"][0]
    assert (latest["actor"], latest["subject"], latest["subjectMunicipality"], latest["result"]) == (
        DAISUKE.id, DAISUKE.id, "282201", "permitted")
    refused = await call(query, principal=resident_principal(DAISUKE))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
