"""ContextFilter: the current context on every log record."""

from __future__ import annotations

import io
import logging

from midil_common.events import ContextFilter, event_context


def make_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(correlation_id)s %(trace_id)s %(span_id)s %(message)s")
    )
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("tests.events.context_filter")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_records_carry_the_context_or_dashes() -> None:
    logger, stream = make_logger()
    logger.info("outside")
    with event_context("corr-log") as context:
        logger.info("inside")
    logger.info("kept", extra={"correlation_id": "explicit"})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "- - - outside"
    assert lines[1] == f"corr-log {context.trace_id} {context.span_id} inside"
    assert lines[2] == "explicit - - kept"


def test_the_filter_never_drops_a_record() -> None:
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "m", None, None)
    assert ContextFilter().filter(record) is True
    assert record.correlation_id == "-" and record.trace_id == "-"  # type: ignore[attr-defined]
