"""childcare's and currency's SDLs compose with the other two subgraphs, and their fields reach the API."""

from __future__ import annotations

import importlib

from gateway.composition.compose import compose
from gateway.composition.source import SubgraphSource
from gateway.supergraph import load_supergraph


def test_childcare_composes_with_the_other_subgraphs() -> None:
    sources = [SubgraphSource(name, f"http://127.0.0.1/{name}",
                              importlib.import_module(f"subgraphs.{name}.schema").schema.as_str())
               for name in ("childcare", "currency", "identity", "safety")]
    supergraph = load_supergraph(compose(sources))
    api = supergraph.api_schema
    resident = api.get_type("Resident").fields
    assert {"children", "pointAccount", "name", "birthDate"} <= set(resident)
    child = api.get_type("Child").fields
    assert {"nextVaccinations", "vaccinations", "checkups", "guardians", "resident"} <= set(child)
    assert "childcareJoined" in api.get_type("Municipality").fields
    assert {"child", "childcareFacilities", "childcareFacility", "vaccines"} <= set(api.query_type.fields)
    assert {"grantPoints", "spendPoints", "openPointAccount", "recordVaccination", "recordCheckupAttendance"} \
        <= set(api.mutation_type.fields)
    assert "CHILDCARE" in {name.upper() for name in supergraph.subgraphs}
