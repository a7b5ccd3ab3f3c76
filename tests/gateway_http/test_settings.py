from __future__ import annotations

import os

import pytest

from gateway.settings import Settings, SettingsError, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_defaults():
    settings = load_settings(None)
    assert settings == Settings()
    assert settings.introspection and not settings.expose_query_plan and settings.csrf.enabled


def test_values_are_read(tmp_path):
    settings = load_settings(
        write(
            tmp_path,
            """
introspection = false
expose_query_plan = true
[limits]
max_depth = 7
[caches]
plans = 3
[csrf]
required_headers = ["x-kyodo-preflight"]
[http_client]
request_timeout_seconds = 2
[subgraphs.childcare]
url = "http://127.0.0.1:9/graphql"
[auth]
issuers = [{ issuer = "http://idp", audience = "urn:kyodo:gateway" }]
""",
        )
    )
    assert settings.introspection is False and settings.expose_query_plan is True
    assert settings.limits.max_depth == 7 and settings.limits.max_tokens == 15_000
    assert settings.caches.plans == 3
    assert settings.csrf.required_headers == ("x-kyodo-preflight",)
    assert settings.http_client.request_timeout_seconds == 2.0
    assert settings.subgraph_url("childcare", "default") == "http://127.0.0.1:9/graphql"
    assert settings.subgraph_url("safety", "default") == "default"
    assert settings.auth.issuers[0].trusted().audiences == ("urn:kyodo:gateway",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nmax_dept = 3\n", "limits.max_dept: unknown key"),
        ("introspection = 'yes'\n", "introspection: must be true or false"),
        ("[limits]\nmax_depth = -1\n", "limits.max_depth: must be greater than or equal to 0"),
        ("[limits]\nmax_depth = '10'\n", "limits.max_depth: must be an integer"),
        ("[subgraphs.a]\nhost = 'x'\n", "subgraphs.a.host: unknown key"),
        ("limits = 3\n", "limits: must be a table"),
        ("[limits\n", "not valid TOML"),
        ("[auth]\n[[auth.issuers]]\nissuer = 'https://i'\naudiance = 'a'\n", "auth.issuers[0].audiance: unknown key"),
        ("[auth]\n[[auth.issuers]]\nissuer = 'https://i'\n", "auth.issuers[0]: trusted issuer https://i needs at least one audience"),
        ("[[auth.issuers]]\nissuer = 'https://i'\naudience = 'a'\nalgorithms = ['HS256']\n", "auth.issuers[0]: algorithm HS256"),
        ("[[auth.issuers]]\nissuer = 'https://i'\naudience = 'a'\nclaims = { subjekt = 'x' }\n", "auth.issuers[0].claims.subjekt: unknown key"),
        ("[auth]\npolicy_hook = 'nocolon'\n", "auth.policy_hook: must look like 'package.module:function'"),
        ("[auth]\nanonymous_only = true\n[[auth.issuers]]\nissuer = 'https://i'\naudience = 'a'\n", "cannot be combined"),
        ("[telemetry]\nexporter = 'zipkin'\n", "telemetry.exporter: must be 'otlp' or 'console'"),
        ("[telemetry]\nsampling_ratio = 1.5\n", "telemetry.sampling_ratio: must be less than or equal to 1"),
        ("[csrf]\nrequired_headers = [1]\n", "csrf.required_headers[0]: must be a string"),
        ("[[plugins]]\nmodul = 'x'\n", "plugins[0].modul: unknown key"),
        ("[[plugins]]\nmodule = 'not a module'\n", "plugins[0].module: must be a dotted module name"),
    ],
)
def test_bad_settings_are_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(write(tmp_path, text), environ={})
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "gateway.toml") + ": ")
    assert "\n" not in str(raised.value)


def test_environment_overrides_keys_as_toml_values(tmp_path):
    environ = {
        "KYODO__LIMITS__MAX_DEPTH": "10",
        "KYODO__INTROSPECTION": "false",
        "KYODO__CSRF__REQUIRED_HEADERS": '["x-one", "x-two"]',
        "KYODO__TELEMETRY__OTLP_ENDPOINT": "http://collector:4318/v1/traces",   # not TOML: a plain string
        "KYODO_SERVE_CONFIG_FILE": "ignored: one underscore is not the settings prefix",
    }
    settings = load_settings(write(tmp_path, "[limits]\nmax_depth = 7\nmax_aliases = 9\n"), environ=environ)
    assert settings.limits.max_depth == 10 and settings.limits.max_aliases == 9  # the file's other keys stay
    assert settings.introspection is False
    assert settings.csrf.required_headers == ("x-one", "x-two")
    assert settings.telemetry.otlp_endpoint == "http://collector:4318/v1/traces"
    assert load_settings(None, environ={"KYODO__AUTH__ANONYMOUS_ONLY": "true"}).auth.anonymous_only is True


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"KYODO__LIMITS__MAX_DEPHT": "3"}, "limits.max_depht: unknown key (set by KYODO__LIMITS__MAX_DEPHT)"),
        ({"KYODO__LIMITS__MAX_DEPTH": "ten"}, "limits.max_depth: must be an integer (set by KYODO__LIMITS__MAX_DEPTH)"),
        ({"KYODO__LIMITS__MAX_DEPTH__X": "1"}, "KYODO__LIMITS__MAX_DEPTH__X: limits.max_depth is not a table"),
    ],
)
def test_bad_environment_override_names_the_variable(tmp_path, environ, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(write(tmp_path, "[limits]\nmax_depth = 7\n"), environ=environ)
    assert message in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KYODO_RELAY_BATCH", "many", "KYODO_RELAY_BATCH: must be a valid integer"),
        ("KYODO_RELAY_BATCH", "0", "KYODO_RELAY_BATCH: must be greater than 0"),
        ("KYODO_RELAY_ISSUER", "ftp://idp", "KYODO_RELAY_ISSUER: must be an http:// or https:// URL"),
    ],
)
def test_relay_settings_refuse_bad_environment_with_one_line(variable, value, message):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "kyodo", "relay", "grants"], capture_output=True, text=True, timeout=60,
        env={**os.environ, variable: value},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_relay_settings_read_the_environment_and_the_command_line(monkeypatch):
    from subgraphs.grant_relay.settings import RelaySettings

    monkeypatch.setenv("KYODO_RELAY_ISSUER", "https://idp.example/")
    monkeypatch.setenv("KYODO_RELAY_BATCH", "7")
    settings = RelaySettings.from_env(gateway_url="http://gw:4000/graphql")
    assert (settings.issuer, settings.batch, settings.gateway_url) == ("https://idp.example", 7, "http://gw:4000/graphql")
    assert RelaySettings.from_env(batch=3).batch == 3
    assert "secret" not in repr(settings)
