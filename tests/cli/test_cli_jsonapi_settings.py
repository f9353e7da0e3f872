"""``midil jsonapi validate|query`` and ``midil settings check``, through the real console script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VALID = {"data": [{"type": "articles", "id": "1", "attributes": {"title": "Hi"}}]}
INVALID = {"data": {"type": "articles", "attributes": {"id": "x"}}, "errors": []}


def test_validate_a_valid_document_from_a_file_and_stdin(midil: Any, tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(VALID))
    text = midil("jsonapi", "validate", str(path))
    assert text.returncode == 0 and text.stdout.startswith("valid: a JSON:API 1.1 document")
    assert "1 resource" in text.stdout
    as_json = midil("jsonapi", "validate", "-", "-o", "json", input=json.dumps(VALID))
    assert as_json.returncode == 0 and as_json.json()["valid"] is True


def test_validate_an_invalid_document_prints_the_errors_with_pointers(midil: Any) -> None:
    text = midil("jsonapi", "validate", "-", input=json.dumps(INVALID))
    assert text.returncode == 1
    assert "/data/attributes/id" in text.stdout and "/data:" in text.stdout
    assert "not a valid JSON:API document (3 errors)" in text.one_error_line()
    as_json = midil("jsonapi", "validate", "-", "--output", "json", input=json.dumps(INVALID))
    assert as_json.returncode == 1
    pointers = {e["source"]["pointer"] for e in as_json.json()["errors"]}
    assert {"", "/data", "/data/attributes/id"} <= pointers
    not_json = midil("jsonapi", "validate", "-", input="{")
    assert not_json.returncode == 1 and "not valid JSON" in not_json.stdout
    missing = midil("jsonapi", "validate", "no-such-file.json")
    assert missing.returncode == 1 and "no-such-file.json" in missing.one_error_line()


def test_validate_applies_1_0_rules_on_request(midil: Any) -> None:
    # 1.1 allows @-members; 1.0 does not.
    doc = {"data": {"type": "articles", "id": "1", "attributes": {"@ext": 1, "title": "x"}}}
    assert midil("jsonapi", "validate", "-", input=json.dumps(doc)).returncode == 0
    old = midil("jsonapi", "validate", "-", "--jsonapi-version", "1.0", input=json.dumps(doc))
    assert old.returncode == 1 and "1.0" in old.stdout, old.stdout


def test_query_parses_in_both_formats(midil: Any) -> None:
    query = "sort=-created,title&include=author&page[size]=5&filter[published]=true"
    text = midil("jsonapi", "query", query)
    assert text.returncode == 0
    assert "-created, title" in text.stdout and "author" in text.stdout and "size=5" in text.stdout
    parsed = midil("jsonapi", "query", "?" + query, "-o", "json").json()
    assert parsed["sort"] == [
        {"field": "created", "descending": True},
        {"field": "title", "descending": False},
    ]
    assert parsed["include"] == ["author"] and parsed["page"] == {"size": 5}
    assert parsed["filters"] == [{"name": "published", "path": ["published"], "value": "true"}]


def test_query_errors_name_their_parameter(midil: Any) -> None:
    text = midil("jsonapi", "query", "sort=--x&page[size]=500&bogus=1")
    assert text.returncode == 1
    assert "?page[size]" in text.stdout and "?bogus" in text.stdout
    assert "3 errors" in text.one_error_line()
    as_json = midil("jsonapi", "query", "page[size]=500", "-o", "json")
    assert as_json.returncode == 1
    assert as_json.json()["errors"][0]["source"] == {"parameter": "page[size]"}


def test_query_limits_default_to_the_jsonapi_settings(midil: Any) -> None:
    env = {
        "MIDIL_JSONAPI__MAX_PAGE_SIZE": "5",
        "MIDIL_JSONAPI__DEFAULT_PAGE_SIZE": "3",
        "MIDIL_JSONAPI__MAX_INCLUDE_DEPTH": "1",
    }
    assert midil("jsonapi", "query", "", "-o", "json", env=env).json()["page"] == {"size": 3}
    too_large = midil("jsonapi", "query", "page[size]=6", "-o", "json", env=env)
    assert too_large.returncode == 1
    assert too_large.json()["errors"][0]["source"] == {"parameter": "page[size]"}
    too_deep = midil("jsonapi", "query", "include=a.b", "-o", "json", env=env)
    assert too_deep.returncode == 1
    assert too_deep.json()["errors"][0]["source"] == {"parameter": "include"}
    # The options win over the settings.
    given = ("--max-page-size", "50", "--max-include-depth", "2", "-o", "json")
    ok = midil("jsonapi", "query", "page[size]=6&include=a.b", *given, env=env)
    assert ok.returncode == 0 and ok.json()["page"] == {"size": 6}, ok.output
    bad = midil("jsonapi", "query", "", env={"MIDIL_JSONAPI__MAX_PAGE_SIZE": "zero"})
    assert bad.returncode == 1
    assert "MIDIL_JSONAPI__MAX_PAGE_SIZE" in bad.one_error_line()


# ----------------------------------------------------------------------------------- settings

SECRET = "very-secret-value-7"


def test_settings_check_prints_the_configuration_with_secrets_masked(midil: Any) -> None:
    env = {
        "MIDIL_AUTH__ISSUER": "https://issuer.example",
        "MIDIL_SERVICE_AUTH__CLIENT_SECRET": SECRET,
        "MIDIL_EVENTS__REGION": "eu-west-1",
    }
    text = midil("settings", "check", env=env)
    assert text.returncode == 0 and text.stdout.startswith("settings: valid")
    assert (
        "MIDIL_AUTH__ISSUER" in text.stdout
        and "https://issuer.example  (environment)" in text.stdout
    )
    assert "MIDIL_SERVICE_AUTH__CLIENT_SECRET   ********  (environment)" in text.stdout
    as_json = midil("settings", "check", "--only-set", "-o", "json", env=env)
    assert as_json.returncode == 0
    rows = {row["variable"]: row for row in as_json.json()["settings"]}
    assert set(rows) == set(env)
    assert rows["MIDIL_SERVICE_AUTH__CLIENT_SECRET"]["value"] == "********"
    for done in (text, as_json):
        assert SECRET not in done.output


def test_settings_check_fails_on_a_bad_value_naming_the_variable(midil: Any) -> None:
    env = {"MIDIL_EVENTS__REGION": "moon-1", "MIDIL_SERVICE_AUTH__CLIENT_SECRET": SECRET}
    text = midil("settings", "check", env=env)
    assert text.returncode == 1 and text.stdout == ""
    line = text.one_error_line()
    assert "MIDIL_EVENTS__REGION" in line and "moon-1" not in line
    as_json = midil("settings", "check", "-o", "json", env=env)
    assert as_json.returncode == 1
    assert as_json.json()["variable"] == "MIDIL_EVENTS__REGION"
    assert SECRET not in text.output + as_json.output


def test_settings_check_lists_unknown_variables_and_strict_fails(midil: Any) -> None:
    env = {"MIDIL_AUTH_ISSUER": "https://issuer.example"}
    text = midil("settings", "check", "--section", "auth", env=env)
    assert text.returncode == 0
    assert "did you mean MIDIL_AUTH__ISSUER?" in text.stdout
    assert "MIDIL_HTTP__" not in text.stdout and text.stderr == ""
    strict = midil("settings", "check", "--strict", "-o", "json", env=env)
    assert strict.returncode == 1 and strict.json()["unknown"][0]["variable"] == "MIDIL_AUTH_ISSUER"
    strict.one_error_line()
