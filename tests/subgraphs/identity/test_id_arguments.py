"""identity's id-taking fields: a malformed id is BAD_USER_INPUT, never an empty answer or a silent miss."""

from __future__ import annotations

import pytest

from subgraphs.common.roster import STAFF
from tests.subgraphs.conftest import resident_principal, staff_principal

HIMEJI_AUDITOR = staff_principal(next(s for s in STAFF if s.municipality_code == "282014" and "identity:audit" in s.scopes))
YABU_STAFF = staff_principal(next(s for s in STAFF if s.municipality_code == "282227" and "identity:write" in s.scopes))
MALFORMED = ["", "x" * 65, "r-ümlaut", "r-1\n2"]


@pytest.mark.parametrize("bad", MALFORMED)
async def test_malformed_ids(call, bad):
    cases = [
        ("query($id: ID!) { resident(id: $id) { id } }", staff_principal(next(
            s for s in STAFF if s.municipality_code == "282014" and "identity:read" in s.scopes))),
        ("query($id: ID!) { identityAuditLog(subject: $id) { subject } }", HIMEJI_AUDITOR),
        ("mutation($id: ID!) { completeApplication(applicationId: $id) { id } }", YABU_STAFF),
        ("query($id: ID!) { earlyVotingTally(electionId: $id) { total } }", YABU_STAFF),
        ("mutation($id: ID!) { declareEarlyVoting(electionId: $id, reason: WORK) { declaredOn } }",
         resident_principal(_yabu_adult())),
    ]
    for query, principal in cases:
        body = await call(query, {"id": bad}, principal=principal)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (query, body)
        assert "malformed" in body["errors"][0]["message"], (query, body)


def _yabu_adult():  # noqa: ANN202
    from datetime import date

    from subgraphs.common.roster import ROSTER

    return next(p for p in ROSTER if p.municipality_code == "282227" and p.age_on(date(2026, 11, 26)) >= 18)
