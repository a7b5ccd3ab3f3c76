"""docker/keycloak/kyodo-realm.json against Keycloak's realm representation, offline: the TypeScript types of
RealmRepresentation that @keycloak/keycloak-admin-client ships (the same major version as compose's Keycloak),
checked by tsc with the realm inlined as an object literal, so that any key Keycloak does not know (a typo in
`publicClient`, a mapper field, a user attribute list where a string belongs) fails here rather than at import.

Where those types and Keycloak's Java model disagree, the Java model wins and is declared here: component
`config` and `subComponents` are MultivaluedHashMaps (objects of arrays) in Java, single values in the types.
Free-form maps (client `attributes`, mapper `config`, user `attributes`) are `Record<string, any>` there, so
their keys are checked by tests/deploy/test_compose.py and the topology test instead.

Needs node and npm: the two packages are installed under tests/deploy/keycloak_types/ (`npm ci`) when missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.keycloak.realm import realm
from tests.security.oidc_provider_process import find_node

TYPES_DIR = Path(__file__).parent / "keycloak_types"
DEFS = TYPES_DIR / "node_modules" / "@keycloak" / "keycloak-admin-client" / "lib" / "defs"
TSC = TYPES_DIR / "node_modules" / "typescript" / "bin" / "tsc"


@pytest.fixture(scope="module")
def tsc() -> list[str]:
    node = find_node()
    assert node, "node is needed to run tsc (KYODO_NODE or node on PATH)"
    if not TSC.exists() or not (DEFS / "realmRepresentation.d.ts").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the Keycloak admin client's types"
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TYPES_DIR, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    return [node, str(TSC)]


def check(tsc: list[str], work: Path, realm_value: dict) -> subprocess.CompletedProcess[str]:
    source = work / "realm.ts"
    source.write_text(f"""import type RealmRepresentation from "{DEFS / 'realmRepresentation.js'}";
import type ComponentExportRepresentation from "{DEFS / 'componentExportRepresentation.js'}";

// Keycloak's Java model: MultivaluedHashMap, a JSON object of arrays (the admin client's types say single values)
interface ComponentExport extends Omit<ComponentExportRepresentation, "subComponents" | "config"> {{
  subComponents?: Record<string, ComponentExport[]>;
  config?: Record<string, string[]>;
}}
type Realm = Omit<RealmRepresentation, "components"> & {{ components?: Record<string, ComponentExport[]> }};

export const realm: Realm = {json.dumps(realm_value, ensure_ascii=False, indent=1)};
""")
    return subprocess.run([*tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext",
                           "--moduleResolution", "nodenext", "--skipLibCheck", str(source)],
                          capture_output=True, text=True, timeout=300, cwd=work)


def test_the_realm_is_a_keycloak_realm_representation(tsc, tmp_path):
    committed = json.loads((Path(__file__).resolve().parents[2] / "docker" / "keycloak" / "kyodo-realm.json").read_text())
    done = check(tsc, tmp_path, committed)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


@pytest.mark.parametrize("break_it", [
    lambda r: r["clients"][0].update(publicClinet=True),                          # a misspelt client key
    lambda r: r["clients"][1]["protocolMappers"][0].update(protocolMaper="x"),   # a misspelt mapper key
    lambda r: r["users"][0].update(realmRoles="resident"),                        # a string where a list belongs
    lambda r: r.update(accessTokenLifespan="300"),                                # a string where a number belongs
    lambda r: r["components"]["org.keycloak.userprofile.UserProfileProvider"][0].update(config={"x": "y"}),
])
def test_a_wrong_key_or_type_in_the_realm_fails(tsc, tmp_path, break_it):
    broken = realm()
    break_it(broken)
    done = check(tsc, tmp_path, broken)
    assert done.returncode != 0 and "error TS" in done.stdout, done.stdout[-2000:]
