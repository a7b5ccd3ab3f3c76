"""deploy/k8s: the kustomize base renders, every object is valid against the Kubernetes schemas (offline,
kubernetes-validate), and the gateway and each subgraph have what a prefecture-wide deployment needs:
probes on /health, a HorizontalPodAutoscaler, a PodDisruptionBudget that selects their pods, settings in a
ConfigMap and keys and database URLs in Secrets."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from gateway.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
KUBERNETES_VERSION = "1.33.0"
SUBGRAPHS = {"childcare": 4101, "safety": 4102, "currency": 4103, "identity": 4104}


def _raw_base() -> list[dict]:
    """The base's resources as files (what kustomize renders, minus its generated ConfigMap and namespace)."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in yaml.safe_load_all((BASE / name).read_text())]


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:    # no kustomize here: the files as written are validated all the same
        return _raw_base()
    completed = subprocess.run([kubectl, "kustomize", str(BASE)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return list(yaml.safe_load_all(completed.stdout))


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name)]
    assert len(matches) == 1, (kind, name, [o["metadata"]["name"] for o in matches])
    return matches[0]


def test_every_object_is_valid_against_the_kubernetes_schemas(objects):
    for manifest in objects + list(yaml.safe_load_all((K8S / "secrets.example.yaml").read_text())):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_the_validator_does_reject_a_wrong_manifest(objects):
    broken = yaml.safe_load(yaml.safe_dump(find(objects, "Deployment", "kyodo-gateway")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] = 42
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = yaml.safe_load(yaml.safe_dump(find(objects, "PodDisruptionBudget", "kyodo-gateway")))
    broken["spec"]["minAvailabel"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("name", ["kyodo-gateway", *(f"kyodo-{n}" for n in SUBGRAPHS)])
def test_each_service_has_probes_autoscaling_and_a_disruption_budget(objects, name):
    deployment = find(objects, "Deployment", name)
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    labels = pod["metadata"]["labels"]
    hpa = find(objects, "HorizontalPodAutoscaler", name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    pdb = find(objects, "PodDisruptionBudget", name)
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()      # it selects these pods
    service = find(objects, "Service", name)
    assert service["spec"]["selector"].items() <= labels.items()
    # the namespace enforces the restricted pod security standard; each pod meets it
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}


def test_each_subgraph_reads_only_its_own_database_secret(objects):
    for name, port in SUBGRAPHS.items():
        (container,) = find(objects, "Deployment", f"kyodo-{name}")["spec"]["template"]["spec"]["containers"]
        databases = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]
                     if e["name"].endswith("_DATABASE_URL")}
        assert databases == {f"KYODO_{name.upper()}_DATABASE_URL": f"kyodo-{name}-database"}
        assert container["args"][:3] == ["kyodo", "subgraph", name] and str(port) in container["args"]
        assert find(objects, "Service", f"kyodo-{name}")["spec"]["ports"][0]["port"] == port


def test_the_gateway_config_map_is_valid_settings_naming_the_services(objects, tmp_path):
    deployment = find(objects, "Deployment", "kyodo-gateway")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    config_map = find(objects, "ConfigMap", "kyodo-gateway-config") if shutil.which("kubectl") else {
        "data": {n: (BASE / n).read_text() for n in ("gateway.toml", "subgraphs.toml")}}
    if shutil.which("kubectl"):
        assert volumes["config"]["configMap"]["name"] == config_map["metadata"]["name"]   # kustomize's hashed name
    (tmp_path / "gateway.toml").write_text(config_map["data"]["gateway.toml"])
    settings = load_settings(tmp_path / "gateway.toml")
    assert settings.auth.context_key_file == "/keys/gateway-context-key.json"
    assert volumes["context-key"]["secret"]["secretName"] == "kyodo-gateway-context-key"
    urls = {s["name"]: s["url"] for s in tomllib.loads(config_map["data"]["subgraphs.toml"])["subgraphs"]}
    assert urls == {n: f"http://kyodo-{n}:{p}/graphql" for n, p in SUBGRAPHS.items()}


def test_every_secret_referenced_is_described_in_the_example(objects):
    described = {s["metadata"]["name"]: set(s["stringData"])
                 for s in yaml.safe_load_all((K8S / "secrets.example.yaml").read_text())}
    referenced: set[tuple[str, str]] = set()
    for manifest in objects:
        spec = manifest.get("spec", {})
        pod = spec.get("template", {}).get("spec") or {}
        for container in pod.get("containers", []):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add((ref["name"], ref["key"]))
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                referenced.add((volume["secret"]["secretName"], "gateway-context-key.json"))
    assert referenced
    for name, key in referenced:
        assert key in described.get(name, set()), (name, key)


def test_the_grant_relay_calls_identity_directly_and_identity_trusts_the_prefectures_idp(objects):
    from subgraphs.common.service_callers import SERVICE_ISSUER_ENV, service_issuer_from_env

    def env_of(name: str) -> dict[str, dict]:
        (container,) = find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        return {e["name"]: e for e in container["env"]}

    relay = env_of("kyodo-grant-relay")
    assert relay["KYODO_RELAY_IDENTITY_URL"]["value"] == "http://kyodo-identity:4104/graphql"
    assert relay["KYODO_RELAY_GATEWAY_URL"]["value"] == "http://kyodo-gateway:4000/graphql"
    direct = service_issuer_from_env({SERVICE_ISSUER_ENV: env_of("kyodo-identity")[SERVICE_ISSUER_ENV]["value"]})
    (gateway,) = load_settings(BASE / "gateway.toml").auth.issuers
    assert (direct.issuer, direct.audiences, direct.claims) == (gateway.trusted().issuer, gateway.trusted().audiences,
                                                                gateway.trusted().claims)
    assert relay["KYODO_RELAY_ISSUER"]["value"] == direct.issuer
