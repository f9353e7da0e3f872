"""A ``MIDIL_...`` variable that matches no setting is never silently ignored."""

from __future__ import annotations

import warnings

import pytest

from midil_common.errors import ConfigError
from midil_common.settings import known_variables, load_settings, unknown_variables


def test_a_one_underscore_typo_warns_once_naming_the_real_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIDIL_AUTH_ISSUER", "https://issuer.example")
    with pytest.warns(UserWarning, match="MIDIL_AUTH_ISSUER .*did you mean MIDIL_AUTH__ISSUER"):
        settings = load_settings()
    assert settings.auth.issuer is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_settings()  # once per variable, not on every load


def test_a_typo_inside_a_section_is_an_error_naming_the_real_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIDIL_HTTP__MAX_ATEMPTS", "3")
    with pytest.raises(ConfigError, match="did you mean MIDIL_HTTP__MAX_ATTEMPTS") as info:
        load_settings()
    assert info.value.variable == "MIDIL_HTTP__MAX_ATEMPTS"


def test_real_settings_are_known_and_unrelated_variables_ignored() -> None:
    assert "MIDIL_AUTH__ISSUER" in known_variables()
    assert "MIDIL_SERVICE_AUTH__CLIENT_SECRET" in known_variables()
    environ = {"MIDIL_AUTH__ISSUER": "x", "PATH": "/bin", "MIDILX": "1", "MIDIL_ZZZ": "1"}
    assert unknown_variables(environ) == [("MIDIL_ZZZ", None)]


def test_every_setting_is_described_and_named_by_the_one_scheme() -> None:
    """``MIDIL_<SECTION>__<NAME>``, both snake case; the description (the configuration
    reference's one source) is on the field itself."""
    import re

    from midil_common.settings import MidilSettings

    for section, section_field in MidilSettings.model_fields.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", section), section
        model = section_field.annotation
        assert isinstance(model, type)
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", name), (section, name)
            assert field.description and field.description.endswith("."), (section, name)


def test_a_default_page_size_above_the_maximum_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIDIL_JSONAPI__MAX_PAGE_SIZE", "10")
    monkeypatch.setenv("MIDIL_JSONAPI__DEFAULT_PAGE_SIZE", "11")
    with pytest.raises(ConfigError, match="must not exceed max_page_size") as info:
        load_settings()
    assert info.value.variable == "MIDIL_JSONAPI__DEFAULT_PAGE_SIZE"
    monkeypatch.setenv("MIDIL_JSONAPI__DEFAULT_PAGE_SIZE", "10")
    assert load_settings().jsonapi.default_page_size == 10
