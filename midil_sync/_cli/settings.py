"""``midil settings check``: validate the ``MIDIL_...`` environment, print the effective
configuration with secrets masked."""

from __future__ import annotations

import os
import warnings
from typing import Any

import click

from midil_sync._cli._common import (
    CommandFailed,
    echo_json,
    environ_has,
    output_option,
    printable,
    shown,
)

__all__ = ["group"]

MASK = "********"


@click.group("settings")
def group() -> None:
    """The kit's settings, read from MIDIL_... environment variables."""


def _masked(name: str, value: Any) -> Any:
    from pydantic import SecretStr

    if isinstance(value, SecretStr) or (
        value is not None and any(word in name for word in ("secret", "password"))
    ):
        return MASK if value else None
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str) and "://" in value:
        return masked_url(value)
    return value


def masked_url(url: str) -> str:
    """``url`` with its user info, each query value and its fragment masked (see
    :func:`midil_common.http.urls.masked_url`)."""
    from midil_common.http.urls import masked_url as core_masked_url

    return core_masked_url(url, MASK)


def _rows(settings: Any, sections: tuple[str, ...]) -> list[dict[str, Any]]:
    from midil_common.settings import ENV_NESTED_DELIMITER, ENV_PREFIX

    rows = []
    for section in type(settings).model_fields:
        if sections and section not in sections:
            continue
        values = getattr(settings, section)
        for name in type(values).model_fields:
            variable = f"{ENV_PREFIX}{section}{ENV_NESTED_DELIMITER}{name}".upper()
            rows.append(
                {
                    "section": section,
                    "name": name,
                    "variable": variable,
                    "value": _masked(name, getattr(values, name)),
                    "source": "environment" if environ_has(variable) else "default",
                }
            )
    return rows


@group.command("check")
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(["auth", "http", "service_auth", "jsonapi", "events"]),
    help="Show only this section (repeatable).",
)
@click.option("--only-set", is_flag=True, help="Show only the values the environment sets.")
@click.option("--strict", is_flag=True, help="Fail on MIDIL_... variables that match no setting.")
@output_option
def check(sections: tuple[str, ...], only_set: bool, strict: bool, output: str) -> None:
    """Validate the MIDIL_... environment and print the effective configuration.

    Secrets (client secrets, passwords) are shown as ******** when set. A bad value fails with
    exit status 1 and one line naming the variable (never its value). Variables that match no
    setting (a typo such as MIDIL_AUTH_ISSUER) are listed; --strict makes them a failure.
    """
    from midil_common.errors import ConfigError
    from midil_common.settings import load_settings, unknown_variables

    unknown = [
        {"variable": name, "did_you_mean": closest}
        for name, closest in unknown_variables(os.environ)
    ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unknown names are reported below instead
            settings = load_settings()
    except ConfigError as exc:
        if output == "json":
            echo_json(
                {"valid": False, "error": str(exc), "variable": exc.variable, "unknown": unknown}
            )
        raise CommandFailed(f"invalid settings: {exc}") from None
    rows = _rows(settings, sections)
    if only_set:
        rows = [row for row in rows if row["source"] == "environment"]
    if output == "json":
        echo_json({"valid": True, "settings": rows, "unknown": unknown})
    else:
        click.echo("settings: valid")
        width = max((len(row["variable"]) for row in rows), default=0)
        section = None
        for row in rows:
            if row["section"] != section:
                section = row["section"]
                click.echo(section)
            value = "-" if row["value"] is None else shown(row["value"])
            mark = "  (environment)" if row["source"] == "environment" else ""
            click.echo(f"  {row['variable'].ljust(width)}  {value}{mark}")
        for item in unknown:
            hint = f"; did you mean {item['did_you_mean']}?" if item["did_you_mean"] else ""
            # The name is the environment's, any text at all: printable() keeps it on its line.
            click.echo(f"unknown: {printable(str(item['variable']))} matches no setting{hint}")
    if unknown and strict:
        raise CommandFailed(f"{len(unknown)} MIDIL_... variable(s) match no setting")
