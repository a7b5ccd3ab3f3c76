"""docker/: the production-shaped compose stack is valid and wired as documented, its image build file
follows the rules we hold it to, and the Keycloak realm gives the claims the gateway reads.

No docker engine runs here; `docker-compose config` (Debian's docker-compose) validates and renders the
stack, and the tests read the rendered result."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from auth.principal import principal_from_claims
from deploy.keycloak.realm import realm_json
from gateway.settings import load_settings
from subgraphs.common.roster import ROSTER, STAFF, children_of

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
SUBGRAPHS = ("childcare", "safety", "currency", "identity")
KYODO_SERVICES = (*SUBGRAPHS, "gateway-1", "gateway-2", "migrate", "seed", "context-key", "grant-relay")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    completed = subprocess.run(
        ["docker-compose", "--env-file", str(DOCKER / "env.example"), "-f", str(DOCKER / "compose.yaml"), "config"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path_factory.mktemp("compose"))
    assert completed.returncode == 0, completed.stderr
    return yaml.safe_load(completed.stdout)


def test_secrets_are_required_not_defaulted(tmp_path):
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    completed = subprocess.run(["docker-compose", "--env-file", str(empty), "-f", str(DOCKER / "compose.yaml"),
                                "config"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert completed.returncode != 0
    assert "set it in docker/.env" in completed.stderr


def test_every_service_of_the_topology_is_there(rendered):
    services = rendered["services"]
    assert set(services) == {"postgres", "redis", "keycloak", "nginx", *KYODO_SERVICES}
    for name in KYODO_SERVICES:
        assert services[name]["image"] == "kyodo:local"
        assert services[name]["build"]["dockerfile"].endswith("docker/Dockerfile")
        assert services[name]["read_only"] is True and services[name]["cap_drop"] == ["ALL"]


def test_only_the_proxy_is_published_and_only_on_loopback(rendered):
    published = {name: s["ports"] for name, s in rendered["services"].items() if s.get("ports")}
    assert list(published) == ["nginx"]
    (port,) = published["nginx"]
    assert port == "127.0.0.1:4000:8080/tcp"          # docker-compose 1.29 renders the short form


def test_start_order_follows_health_and_finished_jobs(rendered):
    services = rendered["services"]

    def waits_for(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name].get("depends_on", {}).items()}

    assert waits_for("migrate") == {"postgres": "service_healthy"}
    assert waits_for("seed") == {"migrate": "service_completed_successfully"}
    for name in SUBGRAPHS:
        assert waits_for(name) == {"migrate": "service_completed_successfully",
                                   "context-key": "service_completed_successfully"}
    for gateway in ("gateway-1", "gateway-2"):
        assert waits_for(gateway) == {**{n: "service_healthy" for n in SUBGRAPHS}, "keycloak": "service_healthy",
                                      "redis": "service_healthy"}
    assert waits_for("nginx") == {"gateway-1": "service_healthy", "gateway-2": "service_healthy",
                                  "keycloak": "service_healthy"}
    assert waits_for("keycloak") == {"postgres": "service_healthy"}
    # every long-running service says when it is healthy (the kyodo image by its HEALTHCHECK)
    for name in ("postgres", "redis", "keycloak", "nginx"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("migrate", "seed", "context-key"):
        assert services[name]["restart"] == "no"


def test_each_subgraph_gets_only_its_own_database_role(rendered):
    services = rendered["services"]
    for name in SUBGRAPHS:
        environment = services[name]["environment"]
        urls = {k: v for k, v in environment.items() if k.endswith("_DATABASE_URL")}
        assert list(urls) == [f"KYODO_{name.upper()}_DATABASE_URL"]
        assert urls[f"KYODO_{name.upper()}_DATABASE_URL"].startswith(f"postgresql+asyncpg://{name}:")
        assert urls[f"KYODO_{name.upper()}_DATABASE_URL"].endswith(f"@postgres:5432/{name}")
        assert environment["KYODO_HEALTH_URL"].endswith(f":{4101 + SUBGRAPHS.index(name)}/health")
        # the public JWKS only, read-only; never the gateways' private key
        assert [v for v in services[name]["volumes"] if "/keys" in str(v)] == []
    for gateway in ("gateway-1", "gateway-2"):
        assert not any(k.endswith("_DATABASE_URL") for k in services[gateway]["environment"])
    script = (DOCKER / "postgres" / "init-roles.sh").read_text()
    for name in (*SUBGRAPHS, "keycloak"):
        assert re.search(rf"^create {name} \"\$\w+\"$", script, flags=re.M), name


def test_the_gateway_settings_trust_the_stacks_keycloak():
    settings = load_settings(DOCKER / "config" / "gateway.toml")
    (issuer_config,) = settings.auth.issuers
    issuer = issuer_config.trusted()
    assert issuer.issuer == "http://127.0.0.1:4000/realms/kyodo"
    assert issuer.jwks_uri.startswith("http://keycloak:8080/realms/kyodo/")
    assert settings.auth.context_key_file == "/keys/gateway-context-key.json"
    subgraphs = tomllib.loads((DOCKER / "config" / "subgraphs.toml").read_text())["subgraphs"]
    assert [(s["name"], s["url"]) for s in subgraphs] == [
        (n, f"http://{n}:{4101 + i}/graphql") for i, n in enumerate(SUBGRAPHS)]


def test_the_grant_relay_calls_identity_directly_with_the_realms_tokens(rendered):
    from subgraphs.common.service_callers import SERVICE_ISSUER_ENV, service_issuer_from_env

    services = rendered["services"]
    relay = services["grant-relay"]["environment"]
    assert relay["KYODO_RELAY_IDENTITY_URL"] == "http://identity:4104/graphql"
    assert relay["KYODO_RELAY_GATEWAY_URL"] == "http://nginx:8080/graphql"
    assert relay["KYODO_RELAY_ISSUER"] == "http://keycloak:8080/realms/kyodo"
    # identity checks the relay's token as the gateways check theirs: same issuer, keys, audience, claims
    direct = service_issuer_from_env({SERVICE_ISSUER_ENV: services["identity"]["environment"][SERVICE_ISSUER_ENV]})
    (gateway,) = load_settings(DOCKER / "config" / "gateway.toml").auth.issuers
    trusted = gateway.trusted()
    assert (direct.issuer, direct.jwks_uri, direct.audiences, direct.claims) == (
        trusted.issuer, trusted.jwks_uri, trusted.audiences, trusted.claims)
    for name in ("childcare", "safety", "currency"):
        assert SERVICE_ISSUER_ENV not in services[name]["environment"]


def test_nginx_spreads_over_both_replicas_and_drops_slow_clients():
    conf = (DOCKER / "nginx" / "nginx.conf").read_text()
    upstream = re.search(r"upstream gateways \{(.*?)\}", conf, flags=re.S).group(1)
    assert re.findall(r"server (\S+?):4000", upstream) == ["gateway-1", "gateway-2"]
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout", "client_max_body_size",
                      "large_client_header_buffers"):
        assert re.search(rf"^\s+{directive}\s+\S+", conf, flags=re.M), directive
    # Keycloak's public endpoints only, not its admin console
    assert "location /realms/" in conf and "/admin" not in conf


# -- the Keycloak realm ---------------------------------------------------------------------------------

REALM = json.loads((DOCKER / "keycloak" / "kyodo-realm.json").read_text())


def test_the_committed_realm_is_the_generated_one():
    assert (DOCKER / "keycloak" / "kyodo-realm.json").read_text() == realm_json(), \
        "regenerate: python -m deploy.keycloak.realm > docker/keycloak/kyodo-realm.json"


def test_realm_has_the_roster_the_clients_and_no_literal_secret():
    users = {u["username"]: u for u in REALM["users"]}
    for person in ROSTER:
        user = users[person.id]
        assert user["id"] == person.id                      # `sub` is the roster's pseudonymous id
        assert user["attributes"]["muni"] == [person.municipality_code]
        assert set(user["realmRoles"]) == ({"resident", "guardian"} if children_of(person.id) else {"resident"})
    for member in STAFF:
        assert users[member.id]["attributes"]["kyodo_scopes"] == list(member.scopes)
        assert users[member.id]["realmRoles"] == ["staff"]
    clients = {c["clientId"]: c for c in REALM["clients"]}
    assert set(clients) == {"kyodo-web", "kyodo-vendor", "kyodo-card-reader", "kyodo-grant-relay"}
    assert clients["kyodo-web"]["publicClient"] and clients["kyodo-web"]["attributes"]["pkce.code.challenge.method"] == "S256"
    assert not clients["kyodo-web"]["directAccessGrantsEnabled"]
    for client_id in ("kyodo-vendor", "kyodo-card-reader", "kyodo-grant-relay"):
        assert re.fullmatch(r"\$\{KYODO_[A-Z_]+_CLIENT_SECRET\}", clients[client_id]["secret"])
    passwords = {c["value"] for u in REALM["users"] for c in u.get("credentials", [])}
    assert passwords == {"${KYODO_DEMO_PASSWORD}"}
    # attributes are admin-edit only: nobody grants themselves a municipality or a scope
    # every client carries the same claim mappers, and no realm client-scope list replaces Keycloak's
    # built-in ones (`basic` gives `sub`)
    assert "clientScopes" not in REALM
    assert len({json.dumps(c["protocolMappers"], sort_keys=True) for c in REALM["clients"]}) == 1
    profile = json.loads(REALM["components"]["org.keycloak.userprofile.UserProfileProvider"][0]["config"]
                         ["kc.user.profile.config"][0])
    assert profile["unmanagedAttributePolicy"] == "ADMIN_EDIT"


def _token_claims_for(username: str, client_id: str = "kyodo-web") -> dict:
    """The access-token claims the realm's mappers produce for a user signing in with a client (what
    Keycloak would sign)."""
    user = next(u for u in REALM["users"] if u["username"] == username)
    client = next(c for c in REALM["clients"] if c["clientId"] == client_id)
    claims: dict = {"sub": user.get("id", username), "iss": "http://127.0.0.1:4000/realms/kyodo", "acr": "1",
                    "scope": "openid profile identity:read"}   # whatever was asked for: not trusted
    for mapper in client["protocolMappers"]:
        config = mapper["config"]
        assert config["access.token.claim"] == "true"
        if mapper["protocolMapper"] == "oidc-usermodel-attribute-mapper":
            values = user.get("attributes", {}).get(config["user.attribute"], [])
            if values:
                claims[config["claim.name"]] = values if config.get("multivalued") == "true" else values[0]
        elif mapper["protocolMapper"] == "oidc-usermodel-realm-role-mapper":
            claims[config["claim.name"]] = user["realmRoles"]
        elif mapper["protocolMapper"] == "oidc-audience-mapper":
            claims["aud"] = config["included.custom.audience"]
    return claims


def test_realm_claims_become_the_principals_kyodo_expects():
    settings = load_settings(DOCKER / "config" / "gateway.toml")
    mapping = settings.auth.issuers[0].trusted().claims
    staff = STAFF[0]
    claims = _token_claims_for(staff.id)
    assert claims["aud"] == "urn:kyodo:gateway"
    principal = principal_from_claims(claims, mapping, claims["iss"])
    assert (principal.subject, principal.municipality, principal.roles) == (staff.id, staff.municipality_code,
                                                                            {"staff"})
    assert principal.scopes == set(staff.scopes)
    resident = next(p for p in ROSTER if children_of(p.id))
    principal = principal_from_claims(_token_claims_for(resident.id), mapping, "x")
    assert principal.roles == {"resident", "guardian"} and principal.municipality == resident.municipality_code
    assert principal.scopes == set()           # asking for identity:read in `scope` gives a resident nothing
    vendor = principal_from_claims(_token_claims_for("service-account-kyodo-vendor", "kyodo-vendor"), mapping, "x")
    assert vendor.roles == {"vendor"} and vendor.scopes == {"currency:merchant"}


# -- the image ------------------------------------------------------------------------------------------

DOCKERFILE = (DOCKER / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_rules():
    instructions = _instructions()
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) == 2
    for image in stages:
        name = image.split()[0]
        assert ":" in name and not name.endswith(":latest"), f"pin the base image: {name}"
    assert all(op != "ADD" for op, _ in instructions), "COPY, not ADD"
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM"):]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "HEALTHCHECK" for op, _ in final)
    cmd = next(args for op, args in final if op == "CMD")
    assert json.loads(cmd)[0] == "kyodo"                  # exec form: signals reach the process
    for op, args in instructions:
        if op == "RUN" and "apt-get install" in args:
            assert "--no-install-recommends" in args and "rm -rf /var/lib/apt/lists/*" in args
            assert "apt-get update" in args                   # same layer: no stale package index
    # the playground files are fetched (sha384-checked) in the build and copied into KYODO_HOME/var
    assert "fetch_assets --dest /opt/playground" in DOCKERFILE
    assert "COPY --from=build /opt/playground /app/var/playground" in DOCKERFILE
    assert "KYODO_HOME=/app" in DOCKERFILE


def test_dockerignore_keeps_the_context_to_what_the_image_copies():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "**"                            # everything out (.venv, var/, .git, tests) …
    allowed = {p.lstrip("!").rstrip("/") for p in patterns if p.startswith("!")}
    sources = set()
    for op, args in _instructions():
        if op == "COPY" and not args.startswith("--from"):
            sources.update(args.split()[:-1])
    assert sources == allowed                              # … except exactly what COPY needs
    for source in sources:
        assert (REPO / source).exists(), source


def test_package_data_ships_every_non_python_file_the_code_reads():
    """The image installs a wheel: a data file setuptools leaves out is missing only there."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    for package in ("kyodo", "gateway", "subgraphs", "auth"):
        for path in (REPO / package).rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc", ".md") and "__pycache__" not in path.parts:
                assert any(path.match(p) for p in patterns), f"{path.relative_to(REPO)} is not in package-data"
