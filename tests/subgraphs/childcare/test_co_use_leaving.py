"""A municipality that left childcare: from the leaving day its staff and residents are refused, saying so."""

from __future__ import annotations

from subgraphs.common.membership_dates import leave, today_in_japan
from subgraphs.common.roster import STAFF, by_label
from tests.subgraphs.conftest import resident_principal, staff_principal

CHILD_QUERY = "query($id: ID!) { child(id: $id) { id birthDate } }"
KAKOGAWA_CHILDCARE = next(s for s in STAFF if s.municipality_code == "282103" and "childcare:read" in s.scopes)
AOI, MAKOTO = by_label("kakogawa-1/aoi"), by_label("kakogawa-1/makoto")


async def test_after_leaving_reads_are_refused_with_the_leaving_day(call, childcare_db):
    before = await call(CHILD_QUERY, {"id": AOI.id}, principal=staff_principal(KAKOGAWA_CHILDCARE))
    assert before["data"]["child"]["id"] == AOI.id
    async with childcare_db.transaction() as session:
        await leave(session, "childcare", "282103", today_in_japan())
    for principal in (staff_principal(KAKOGAWA_CHILDCARE), resident_principal(MAKOTO)):
        after = await call(CHILD_QUERY, {"id": AOI.id}, principal=principal)
        assert after["data"] == {"child": None}
        error = after["errors"][0]
        assert error["extensions"]["code"] == "PLATFORM_NOT_JOINED"
        assert error["message"] == f"加古川市 left the childcare platform on {today_in_japan().isoformat()}"
        assert AOI.birth_date.isoformat() not in str(after)
