"""The compose topology without docker (deploy/local_topology.py): PostgreSQL with one password-checked role
per platform (docker/postgres/init-roles.sh), Redis, the seed job, four subgraphs, two `kyodo serve` replicas
sharing Redis behind nginx (docker/nginx/nginx.conf), all from compose.yaml's own commands and settings.

The identity provider is the npm `oidc-provider` configured from the generated Keycloak realm
(docker/keycloak/kyodo-realm.json: its clients, users, realm roles, attributes and protocol mappers, on
Keycloak's paths, tests/security/oidc_provider/realm_server.js): Keycloak itself cannot be had on this machine
(its distribution is on Maven only). deploy/keycloak/run_local.py runs the same checks against a real Keycloak.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from deploy import topology_checks as checks
from deploy.local_topology import DOCKER, Ports, generated_secrets, running_topology
from tests.security.oidc_provider_process import PROVIDER_DIR, ensure_installed, find_node, node_script

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def realm_idp():
    """oidc-provider serving the realm at <proxy>/realms/kyodo; yields (its port, the proxy's ports, secrets)."""
    node = find_node()
    assert node, "node is needed to run oidc-provider (KYODO_NODE or node on PATH)"
    ensure_installed()
    ports, env = Ports(), generated_secrets()
    env_for_node = {**os.environ, **env, "KYODO_REALM_FILE": str(DOCKER / "keycloak" / "kyodo-realm.json"),
                    "KYODO_REALM_BASE": ports.public_url}
    with node_script(node, "realm_server.js", env_for_node) as started:
        yield started["port"], ports, env


@pytest.fixture(scope="module")
def topology(realm_idp):
    idp_port, ports, env = realm_idp
    with running_topology(idp_port, ports, env, gateway_env=checks.RATE_LIMIT_ENV) as running:
        yield running, checks.Deployment(running.public_url, env)


def test_residents_cross_platform_query_works_on_both_replicas(topology):
    running, deployment = topology
    answered = checks.check_resident_cross_platform(deployment)
    assert answered == {url.removeprefix("http://") for url in running.gateway_urls}


def test_staff_and_card_reader_tokens_from_the_realm_are_accepted(topology):
    _, deployment = topology
    checks.check_staff_reads_own_municipality(deployment)
    checks.check_card_reader_signs_a_card_in(deployment)


def test_a_vendor_is_confined_to_its_contract_path(topology):
    checks.check_vendor_confined_to_its_contract(topology[1])


def test_a_token_from_an_unknown_issuer_is_refused(topology):
    checks.check_unknown_issuer_refused(topology[1])


def test_a_public_answer_cached_by_one_replica_is_served_by_the_other(topology):
    running, deployment = topology
    answered = checks.check_response_cache_shared(deployment, running.redis_url)
    assert answered == {url.removeprefix("http://") for url in running.gateway_urls}


def test_the_rate_limit_is_shared_by_both_replicas(topology):
    """(Runs after every other anonymous request of this module: the bucket does not refill meanwhile.)"""
    running, deployment = topology
    answered = checks.check_rate_limit_shared(deployment)
    assert answered == {url.removeprefix("http://") for url in running.gateway_urls}


def test_a_persisted_document_published_once_is_known_to_both_replicas(topology, tmp_path):
    running, deployment = topology
    token = checks.sign_in(deployment, checks.GUARDIAN.id)
    checks.check_persisted_before_publish(deployment, token)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(checks.manifest_json())
    # the operator publishes once, with the gateways' own settings (and their Redis, from the environment)
    published = running.kyodo("persisted", "publish", str(manifest), "--config", str(running.gateway_config),
                              extra_env={"KYODO__PERSISTED_DOCUMENTS__REDIS_URL": running.redis_url})
    assert published.returncode == 0, published.stderr
    answered = checks.check_persisted_after_publish(deployment, token)
    assert answered == {url.removeprefix("http://") for url in running.gateway_urls}


def test_the_grant_relay_reads_identity_directly_and_grants_through_the_proxy(topology):
    running, deployment = topology

    def relay_round():  # noqa: ANN202
        done = running.run_once("grant-relay")
        return done.returncode, done.stdout + done.stderr
    checks.check_grant_relay(deployment, relay_round)



def test_the_stand_in_refuses_a_realm_it_cannot_read_faithfully(tmp_path):
    """A protocol mapper type realm_server.js does not interpret stops it, instead of issuing tokens without
    the claim Keycloak would add."""
    node = find_node()
    assert node, "node is needed to run oidc-provider"
    ensure_installed()
    realm = json.loads((DOCKER / "keycloak" / "kyodo-realm.json").read_text())
    realm["clients"][0]["protocolMappers"].append({
        "name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
        "config": {"claim.name": "groups", "access.token.claim": "true"}})
    path = tmp_path / "realm.json"
    path.write_text(json.dumps(realm))
    done = subprocess.run([node, str(PROVIDER_DIR / "realm_server.js")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **generated_secrets(), "KYODO_REALM_FILE": str(path),
                               "KYODO_REALM_BASE": "http://127.0.0.1:1"})
    assert done.returncode != 0 and "oidc-group-membership-mapper" in done.stderr and not done.stdout
