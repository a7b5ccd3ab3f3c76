"""identity's SDL: the shared entities it owns or extends, and the fields the gateway must authenticate."""

from __future__ import annotations

import re

import pytest

from gateway.composition import SubgraphSource, compose
from subgraphs.identity.schema import schema

SDL = schema.as_str()


def test_shared_entities_are_keyed_as_the_architecture_says():
    assert 'type Municipality @key(fields: "code")' in SDL
    assert 'type Resident @key(fields: "id")' in SDL
    assert 'type Shelter @key(fields: "id")' in SDL
    for field in ("name: String!", "nameKana: String!", "prefecture: String!"):
        assert field in type_block("Municipality"), field
    assert "occupancy: ShelterOccupancy!" in type_block("Shelter")


def type_block(name: str) -> list[str]:
    """The field lines of one type in the SDL (descriptions and demand-control directives dropped)."""
    lines = SDL.split(f"type {name} ", 1)[1].split("\n}", 1)[0].splitlines()[1:]
    return [re.sub(r" @(cost|listSize)\(.*?\)", "", line.strip())
            for line in lines if line.strip() and not line.strip().startswith('"')]


def test_every_personal_field_of_resident_is_nullable():
    """A refusal on one Resident field (a co-guardian's name) nulls that field only, never the parents above it."""
    fields = type_block("Resident")
    assert "id: ID!" in fields
    personal = [f for f in fields if not f.startswith("id:")]
    for expected in ("name: String", "nameKana: String", "birthDate: Date", "sex: Int", "municipality: Municipality",
                     "household: Household", "currentShelterStay: ShelterStay", "cardLinks: [CardLink!]",
                     "applications: [OnlineApplication!]", "signIns(limit: Int! = 10): [SignInRecord!]"):
        assert expected in personal, (expected, personal)
    assert not [f for f in personal if f.endswith("!")], personal


def test_a_stay_keeps_its_shelter_id_and_the_shelter_may_be_unknown_to_safety():
    fields = type_block("ShelterStay")
    assert "shelterId: ID!" in fields and "shelter: Shelter" in fields


@pytest.mark.parametrize("field", ["me: Resident", "resident(id: ID!): Resident", "linkCard(", "shelterCheckIn(",
                                   "declareEarlyVoting(", "identityAuditLog("])
def test_personal_fields_are_marked_authenticated(field):
    line = next(line for line in SDL.splitlines() if line.strip().startswith(field))
    assert "@authenticated" in line


def test_identity_composes_alone_with_the_gateways_composer():
    supergraph = compose([SubgraphSource("identity", "http://127.0.0.1:4104/graphql", SDL)])
    assert "join__Graph" in supergraph and "occupancy" in supergraph
