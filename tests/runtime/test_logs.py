"""Structured logs: one JSON object a line with RBTK_LOG_FORMAT=json."""

import json
import logging

import pytest

from rbtk.runtime import logs
from rbtk.runtime.settings import Settings


def test_json_logs_are_one_object_a_line_with_level_logger_and_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logs.configure(Settings(log_format="json", log_level="INFO"))
        worker = logging.getLogger("rbtk.delivery.worker")
        worker.info("delivery %s to %s: sent", 7, "pd-production")
        logging.getLogger("rbtk.delivery.worker").debug("not shown at INFO")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "info",
        "rbtk.delivery.worker",
        "delivery 7 to pd-production: sent",
    )
    assert entry["time"].endswith("+00:00")
