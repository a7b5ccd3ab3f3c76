"""One real stack for the whole integration session (see stack.py), and the people who use it.

The guardian is 山田 太郎 of Himeji (household himeji-1): his children are on Himeji's childcare platform, his
points on Kasai's, his identity on Yabu's; he evacuates to a Kakogawa shelter by tapping his card there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from subgraphs.common.municipality import KAKOGAWA
from subgraphs.common.roster import Person, by_label, children_of
from tests.integration.cross_city import CHECK_IN_MUTATION
from tests.integration.gateway_client import post_graphql
from tests.integration.identity_provider import demo_card, sign_in_with_pkce, tap_card
from tests.integration.stack import Stack, running_stack

GUARDIAN_LABEL = "himeji-1/taro"
EVACUATION_SHELTER = f"{KAKOGAWA}:S001"   # opened by the seeded flood watch
PETS = 1                                  # the household's dog (roster: himeji-1 pets 犬)


@pytest.fixture(scope="session")
async def stack(tmp_path_factory) -> Stack:
    async with running_stack(tmp_path_factory.mktemp("kyodo-stack")) as running:
        yield running


@pytest.fixture(scope="session")
def guardian() -> Person:
    return by_label(GUARDIAN_LABEL)


@dataclass(frozen=True)
class CheckIn:
    shelter_id: str
    members: list[Person]        # the card holder first, then the children who came along
    care_needs: list[str]
    pets: int
    response: dict               # the gateway's answer to the check-in mutation


@pytest.fixture(scope="session")
async def checked_in(stack: Stack, guardian: Person) -> CheckIn:
    """The seed has no shelter stays: the guardian taps his card at the shelter (card-tap sign-in at the dev
    IdP), and the reader checks him and his children in through the gateway."""
    card = demo_card(stack.idp_app, guardian.id)
    token = await tap_card(stack.idp_url, card)
    children = list(children_of(guardian.id))
    response = await post_graphql(stack.graphql_url, CHECK_IN_MUTATION, {"input": {
        "shelterId": EVACUATION_SHELTER, "certificateSerial": card.serial,
        "companionIds": [c.id for c in children], "pets": PETS, "careNeeds": []}}, token=token)
    assert response.status_code == 200, response.text
    return CheckIn(EVACUATION_SHELTER, [guardian, *children], [], PETS, response.json())


@pytest.fixture(scope="session")
async def guardian_token(stack: Stack, guardian: Person) -> str:
    """Signed in at the dev IdP by authorization code + PKCE."""
    return await sign_in_with_pkce(stack.idp_url, guardian.id)
