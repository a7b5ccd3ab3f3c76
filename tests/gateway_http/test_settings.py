from __future__ import annotations

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
    assert settings.auth["issuers"][0]["audience"] == "urn:kyodo:gateway"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nmax_dept = 3\n", "limits.max_dept"),
        ("introspection = 'yes'\n", "introspection"),
        ("[limits]\nmax_depth = -1\n", "limits.max_depth"),
        ("[subgraphs.a]\nhost = 'x'\n", "subgraphs.a.host"),
        ("limits = 3\n", "limits"),
        ("[limits\n", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, text, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(write(tmp_path, text))
    assert message in str(raised.value)
    assert "gateway.toml" in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")
