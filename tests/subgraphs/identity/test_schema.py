"""identity's SDL: the shared entities it owns or extends, and the fields the gateway must authenticate."""

from __future__ import annotations

import importlib

import pytest

from subgraphs.identity.schema import schema

SDL = schema.as_str()


def test_shared_entities_are_keyed_as_the_architecture_says():
    assert 'type Municipality @key(fields: "code")' in SDL
    assert 'type Resident @key(fields: "id")' in SDL
    assert 'type Shelter @key(fields: "id")' in SDL
    for field in ("name: String!", "nameKana: String!", "prefecture: String!", "currentShelterStay: ShelterStay",
                  "birthDate: Date!", "sex: Int!", "household: Household", "occupancy: ShelterOccupancy!"):
        assert field in SDL, field


@pytest.mark.parametrize("field", ["me: Resident", "resident(id: ID!): Resident", "linkCard(", "shelterCheckIn(",
                                   "declareEarlyVoting(", "identityAuditLog("])
def test_personal_fields_are_marked_authenticated(field):
    line = next(line for line in SDL.splitlines() if line.strip().startswith(field))
    assert "@authenticated" in line


def test_identity_composes_alone_with_the_gateways_composer():
    try:
        compose = importlib.import_module("gateway.composition.compose").compose
        source = importlib.import_module("gateway.composition.source").SubgraphSource
    except ModuleNotFoundError:
        pytest.skip("gateway.composition not present")
    supergraph = compose([source("identity", "http://127.0.0.1:4104/graphql", SDL)])
    assert "join__Graph" in supergraph and "occupancy" in supergraph
