"""EventBridge Scheduler requests: schedule expressions, time zones, flexible windows, and the
``CreateSchedule``/``UpdateSchedule`` arguments both shells' ``EventBridgeScheduler`` send.

Expressions (checked here, before any call):

- ``at(yyyy-mm-ddThh:mm:ss)``: a one-time schedule, written without offset or fraction in the
  schedule's time zone (:func:`at_expression`); created with ``ActionAfterCompletion=DELETE``;
- ``rate(value unit)``: ``unit`` one of minute(s), hour(s), day(s), singular exactly when the value
  is 1 (:func:`rate_expression` writes one from a ``timedelta``);
- ``cron(minutes hours day-of-month month day-of-week year)``: six fields of AWS's cron syntax, one
  of day-of-month and day-of-week being ``?`` (:func:`cron_expression` accepts it with or without
  ``cron(...)``).

The target's ``Input`` is the event's CloudEvents JSON. A create sends a fresh client token
(:func:`client_token`), which the kit's retries of that call repeat, so a create repeated after a
lost answer is idempotent; when a schedule of that name exists, :func:`same_definition` tells an
identical one (the create succeeded) from a different one (a conflict).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import orjson

from midil_common.errors import ConfigError
from midil_common.events.envelope import Event

__all__ = [
    "DEFAULT_SCHEDULE_GROUP",
    "at_expression",
    "client_token",
    "cron_expression",
    "flexible_time_window",
    "rate_expression",
    "same_definition",
    "schedule_request",
    "validate_schedule_expression",
    "validate_timezone",
]

DEFAULT_SCHEDULE_GROUP = "default"
# EventBridge Scheduler's flexible windows: 1 to 1,440 minutes (a day).
_MAX_WINDOW_MINUTES = 1440

_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")
_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)?:iam::\d{12}:role/[\w+=,.@/-]+", re.ASCII)
_TARGET_ARN = re.compile(r"arn:aws(-[a-z]+)?:[a-z0-9\-]+:[!-~]*", re.ASCII)
_TIMEZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*", re.ASCII)
_AT = re.compile(r"at\(([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\)", re.ASCII)
_RATE = re.compile(r"rate\(([1-9][0-9]{0,8}) (minutes?|hours?|days?)\)", re.ASCII)
_CRON = re.compile(r"cron\((.*)\)", re.ASCII | re.DOTALL)
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
# One regular expression per cron field: its list items are values, ranges or steps.
_CRON_FIELDS = (
    ("minutes", r"[0-9]{1,2}"),
    ("hours", r"[0-9]{1,2}"),
    ("day-of-month", r"(?:[0-9]{1,2}W?|L|LW)"),
    ("month", rf"(?:[0-9]{{1,2}}|{_MONTHS})"),
    ("day-of-week", rf"(?:[0-9]L?|{_DAYS}|L|[0-9]#[1-5]|(?:{_DAYS})#[1-5])"),
    ("year", r"[0-9]{4}"),
)
_EXPRESSION_MAX = 256


def _cron_field(atom: str) -> re.Pattern[str]:
    item = rf"(?:\*|{atom}(?:-{atom})?)(?:/[0-9]{{1,4}})?"
    return re.compile(rf"{item}(?:,{item})*", re.ASCII | re.IGNORECASE)


_CRON_PATTERNS = tuple((name, _cron_field(atom)) for name, atom in _CRON_FIELDS)


def _check_name(name: str, value: Any) -> str:
    if type(value) is not str or _NAME.fullmatch(value) is None:
        raise ConfigError(f"{name} must be 1 to 64 of 0-9 a-z A-Z - _ .", variable=name)
    return value


def validate_timezone(value: Any) -> str:
    """``value`` if it is written like an IANA time zone name (``UTC``, ``Europe/Berlin``), else
    ``ConfigError``. Whether the zone exists is the service's to say."""
    if type(value) is not str or len(value) > 50 or _TIMEZONE.fullmatch(value) is None:
        raise ConfigError("timezone must be an IANA time zone name", variable="timezone")
    return value


def _zone(name: str) -> dt_timezone | Any:
    if name.upper() == "UTC":
        return dt_timezone.utc
    try:
        import zoneinfo

        return zoneinfo.ZoneInfo(name)
    except (ImportError, KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ConfigError(f"unknown time zone {name!r}", variable="timezone") from None


def at_expression(when: datetime, timezone: str | None = None) -> tuple[str, str]:
    """The ``at(...)`` expression of a one-time schedule at ``when``, and its time zone.

    An aware ``when`` is written in ``timezone`` (default UTC); a naive one is read in
    ``timezone``, which is then required (a naive time without a zone is refused, not guessed).
    A fraction of a second rounds up: the schedule never fires before ``when``.
    """
    if type(when) is not datetime:
        raise ConfigError("when must be a datetime", variable="when")
    zone_name = "UTC" if timezone is None else validate_timezone(timezone)
    naive = when.tzinfo is None or when.utcoffset() is None
    if naive and timezone is None:
        raise ConfigError(
            "when is a naive datetime: give it a tzinfo or pass timezone=", variable="when"
        )
    zone = None if naive else _zone(zone_name)
    try:
        local = when if zone is None else when.astimezone(zone).replace(tzinfo=None)
        if local.microsecond:
            local = local.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:
        # Near datetime.min or max, the zone's offset or the rounding up leaves the range.
        raise ConfigError(
            f"when is out of the range of dates in {zone_name}", variable="when"
        ) from None
    # isoformat, not strftime("%Y"): it writes years before 1000 with four digits, as at() needs.
    return f"at({local.isoformat(timespec='seconds')})", zone_name


def rate_expression(every: timedelta) -> str:
    """The ``rate(...)`` expression of ``every``: whole minutes, at least one, written in the
    largest unit that divides it (``rate(1 hour)``, ``rate(90 minutes)``, ``rate(2 days)``)."""
    if type(every) is not timedelta:
        raise ConfigError("every must be a timedelta", variable="every")
    seconds = every.total_seconds()
    if every.microseconds or seconds % 60 or seconds < 60:
        raise ConfigError("every must be a whole number of minutes, at least 1", variable="every")
    minutes = int(seconds // 60)
    unit, size = next(
        (unit, size)
        for unit, size in (("day", 1440), ("hour", 60), ("minute", 1))
        if minutes % size == 0
    )
    value = minutes // size
    if value > 999_999_999:
        raise ConfigError("every is too long for a rate expression", variable="every")
    return f"rate({value} {unit}{'' if value == 1 else 's'})"


def cron_expression(expression: str) -> str:
    """``expression`` as ``cron(...)`` (given with or without it), checked: six fields of AWS's
    cron syntax, exactly one of day-of-month and day-of-week ``?``."""
    if type(expression) is not str or len(expression) > _EXPRESSION_MAX:
        raise ConfigError("expression must be a cron expression", variable="expression")
    text = expression.strip()
    match = _CRON.fullmatch(text)
    body = (match.group(1) if match else text).strip()
    fields = body.split(" ")
    if len(fields) != 6 or not all(fields):
        raise ConfigError(
            "a cron expression has six fields separated by single spaces: minutes hours "
            "day-of-month month day-of-week year",
            variable="expression",
        )
    for (name, pattern), field in zip(_CRON_PATTERNS, fields, strict=True):
        if field == "?" and name in ("day-of-month", "day-of-week"):
            continue
        if pattern.fullmatch(field) is None:
            raise ConfigError(f"invalid cron {name} field {field[:20]!r}", variable="expression")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ConfigError(
            "one of the cron day-of-month and day-of-week fields must be '?', not both",
            variable="expression",
        )
    return f"cron({' '.join(fields)})"


def validate_schedule_expression(expression: str) -> str:
    """``expression`` if it is a valid ``at(...)``, ``rate(...)`` or ``cron(...)`` expression
    (the cron one normalised), else ``ConfigError``."""
    if type(expression) is not str or len(expression) > _EXPRESSION_MAX:
        raise ConfigError("expression must be a schedule expression", variable="expression")
    if expression.startswith("at("):
        match = _AT.fullmatch(expression)
        try:
            if match is None:
                raise ValueError
            datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ConfigError(
                "an at() expression is at(yyyy-mm-ddThh:mm:ss)", variable="expression"
            ) from None
        return expression
    if expression.startswith("rate("):
        match = _RATE.fullmatch(expression)
        if match is None or (match.group(1) == "1") == match.group(2).endswith("s"):
            raise ConfigError(
                "a rate() expression is rate(value unit): a positive integer and minute, hour "
                "or day, plural unless the value is 1",
                variable="expression",
            )
        return expression
    if expression.startswith("cron("):
        return cron_expression(expression)
    raise ConfigError(
        "a schedule expression is at(...), rate(...) or cron(...)", variable="expression"
    )


def flexible_time_window(window: timedelta | None) -> dict[str, Any]:
    """The ``FlexibleTimeWindow`` of a schedule: off for None (or zero), else a window of 1 to
    1,440 whole minutes."""
    if window is None:
        return {"Mode": "OFF"}
    if type(window) is not timedelta:
        raise ConfigError("flexible_window must be a timedelta or None", variable="flexible_window")
    seconds = window.total_seconds()
    if seconds == 0:
        return {"Mode": "OFF"}
    if window.microseconds or seconds % 60 or not 60 <= seconds <= _MAX_WINDOW_MINUTES * 60:
        raise ConfigError(
            f"flexible_window must be 1 to {_MAX_WINDOW_MINUTES} whole minutes",
            variable="flexible_window",
        )
    return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": int(seconds // 60)}


def schedule_request(
    name: str,
    expression: str,
    event: Event,
    *,
    target_arn: str | None,
    role_arn: str | None,
    timezone: str | None = None,
    group: str | None = None,
    flexible_window: timedelta | None = None,
    action_after_completion: str | None = None,
    description: str | None = None,
    enabled: bool = True,
) -> dict[str, Any]:
    """The ``create_schedule``/``update_schedule`` arguments (without ``ClientToken``) of a
    schedule sending ``event`` (its CloudEvents JSON as the target's ``Input``) to ``target_arn``
    as ``role_arn``. Raises ``ConfigError`` naming the first invalid argument."""
    request: dict[str, Any] = {
        "Name": _check_name("name", name),
        "GroupName": DEFAULT_SCHEDULE_GROUP if group is None else _check_name("group", group),
        "ScheduleExpression": validate_schedule_expression(expression),
        "FlexibleTimeWindow": flexible_time_window(flexible_window),
        "State": "ENABLED" if enabled else "DISABLED",
    }
    if timezone is not None:
        request["ScheduleExpressionTimezone"] = validate_timezone(timezone)
    if target_arn is None:
        raise ConfigError(
            "a schedule needs a target: pass target_arn= (to this call or to "
            "EventBridgeScheduler) or set MIDIL_EVENTS__SCHEDULER_TARGET_ARN",
            variable="target_arn",
        )
    if role_arn is None:
        raise ConfigError(
            "a schedule needs the IAM role that reaches its target: pass role_arn= (to this call "
            "or to EventBridgeScheduler) or set MIDIL_EVENTS__SCHEDULER_ROLE_ARN",
            variable="role_arn",
        )
    if (
        type(target_arn) is not str
        or len(target_arn) > 1600
        or not _TARGET_ARN.fullmatch(target_arn)
    ):
        raise ConfigError("target_arn must be an ARN", variable="target_arn")
    if type(role_arn) is not str or len(role_arn) > 1600 or not _ROLE_ARN.fullmatch(role_arn):
        raise ConfigError(
            "role_arn must be an IAM role ARN (arn:aws:iam::123456789012:role/name)",
            variable="role_arn",
        )
    if not isinstance(event, Event):
        raise ConfigError("event must be an Event", variable="event")
    request["Target"] = {"Arn": target_arn, "RoleArn": role_arn, "Input": event.to_json()}
    if action_after_completion is not None:
        if action_after_completion not in ("NONE", "DELETE"):
            raise ConfigError(
                "action_after_completion must be 'NONE' or 'DELETE'",
                variable="action_after_completion",
            )
        request["ActionAfterCompletion"] = action_after_completion
    if description is not None:
        if type(description) is not str or len(description) > 512:
            raise ConfigError("description must be at most 512 characters", variable="description")
        request["Description"] = description
    return request


def client_token() -> str:
    """A ``ClientToken`` for one create call (64 hex characters), repeated by that call's retries.

    Fresh for every call, never derived from the definition: the service answers a token it has
    seen from its idempotency cache, so a create, a delete and the same create again within that
    window would "succeed" without creating anything. A create that finds the schedule already
    there is told apart by :func:`same_definition`.
    """
    return secrets.token_hex(32)


def _comparable_input(value: Any) -> Any:
    # The same event apart from its id and time: re-creating a schedule at every deployment makes
    # a new Event object each time, and that is still the same definition.
    if type(value) is not str:
        return value
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value
    if isinstance(obj, dict) and "specversion" in obj:
        obj.pop("id", None)
        obj.pop("time", None)
    return obj


def _normalised(definition: Mapping[str, Any]) -> dict[str, Any]:
    target = definition.get("Target")
    target = target if isinstance(target, Mapping) else {}
    window = definition.get("FlexibleTimeWindow")
    window = dict(window) if isinstance(window, Mapping) else {"Mode": "OFF"}
    return {
        "Name": definition.get("Name"),
        "GroupName": definition.get("GroupName") or DEFAULT_SCHEDULE_GROUP,
        "ScheduleExpression": definition.get("ScheduleExpression"),
        "ScheduleExpressionTimezone": definition.get("ScheduleExpressionTimezone") or "UTC",
        "FlexibleTimeWindow": window,
        "State": definition.get("State") or "ENABLED",
        "ActionAfterCompletion": definition.get("ActionAfterCompletion") or "NONE",
        "Description": definition.get("Description") or "",
        "Target": (
            target.get("Arn"),
            target.get("RoleArn"),
            _comparable_input(target.get("Input")),
        ),
    }


def same_definition(request: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether the schedule ``stored`` (a ``get_schedule`` answer) is what ``request`` (from
    :func:`schedule_request`) would create: same name, group, expression, time zone (absent is
    UTC), window, state, action after completion, description, target, role, and the same event
    apart from its id and time."""
    return _normalised(request) == _normalised(stored)
