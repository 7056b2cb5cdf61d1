"""`rbtk admin schema`: the JSON Schema of the configuration file, as committed in docs/."""

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from rbtk.cli.main import app

COMMITTED = Path(__file__).parents[3] / "docs" / "rbtk-config.schema.json"


def test_the_committed_schema_is_what_the_command_prints() -> None:
    result = CliRunner().invoke(app, ["admin", "schema"], env={"RBTK_TOKEN": None})

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")


def test_the_schema_is_a_valid_json_schema_naming_the_document() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator.check_schema(schema)
    assert (schema["$schema"], schema["title"]) == (
        "https://json-schema.org/draft/2020-12/schema",
        "rbtk configuration",
    )
    assert schema["required"] == ["version", "pagerduty", "chat", "suppressions"]
