"""The secrets a document names, read where the CLI runs: a reference that cannot be read names
its line."""

from pathlib import Path

import pytest

from rbtk.config_file.document import Document
from rbtk.config_file.lines import Source
from rbtk.config_file.problems import ConfigProblems
from rbtk.config_file.references import resolve

KEY = "e93facc04764012d7bfb002500d5a1b2"
REST_KEY = "u+Rz8pKq3vW9xYb2wxyz"
FILE = """\
version: 1
pagerduty:
  connectors:
  - name: pd-production
    key_env: PD_PRODUCTION_KEY
    rest_key_env: PD_PRODUCTION_REST_KEY
  - name: pd-staging
    key_file: keys/pd-staging.key
  routing: []
chat:
  channels:
  - name: ops-slack
    kind: slack
    webhook_url_env: OPS_SLACK_WEBHOOK_URL
  rules: []
suppressions: []
"""


def read() -> tuple[Source, Document]:
    source = Source.read(FILE, "rbtk.yaml")
    return source, Document.model_validate(source.data)


def test_each_reference_is_read_from_the_environment_or_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "pd-staging.key").write_text("0c8f1d6e2b9a47c3a5f0e1d2c3b4c9d8\n")
    environ = {
        "PD_PRODUCTION_KEY": f" {KEY}\n",
        "PD_PRODUCTION_REST_KEY": REST_KEY,
        "OPS_SLACK_WEBHOOK_URL": "https://hooks/x",
    }
    _, document = read()

    secrets = resolve(document, environ=environ, folder=tmp_path)

    assert secrets.as_json() == {
        "connectors": {"pd-production": KEY, "pd-staging": "0c8f1d6e2b9a47c3a5f0e1d2c3b4c9d8"},
        "channels": {"ops-slack": "https://hooks/x"},
        "rest_keys": {"pd-production": REST_KEY},
    }


def test_a_missing_variable_or_file_is_named_with_its_line(tmp_path: Path) -> None:
    environ = {"OPS_SLACK_WEBHOOK_URL": " "}
    source, document = read()

    with pytest.raises(ConfigProblems) as refused:
        resolve(document, environ=environ, folder=tmp_path)

    assert [source.locate(p) for p in refused.value.problems] == [
        "rbtk.yaml:5:14: pagerduty.connectors[0].key_env: the environment variable "
        "PD_PRODUCTION_KEY is not set: export it with the secret before applying",
        "rbtk.yaml:6:19: pagerduty.connectors[0].rest_key_env: the environment variable "
        "PD_PRODUCTION_REST_KEY is not set: export it with the secret before applying",
        "rbtk.yaml:8:15: pagerduty.connectors[1].key_file: cannot read keys/pd-staging.key: "
        "No such file or directory",
        "rbtk.yaml:14:22: chat.channels[0].webhook_url_env: the environment variable "
        "OPS_SLACK_WEBHOOK_URL is empty",
    ]


def test_a_connector_without_a_rest_key_reference_sends_none(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "pd-staging.key").write_text("0c8f1d6e2b9a47c3a5f0e1d2c3b4c9d8\n")
    environ = {"PD_PRODUCTION_KEY": KEY, "OPS_SLACK_WEBHOOK_URL": "https://hooks/x"}
    source = Source.read(FILE.replace("    rest_key_env: PD_PRODUCTION_REST_KEY\n", ""), "x")
    document = Document.model_validate(source.data)

    secrets = resolve(document, environ=environ, folder=tmp_path)

    assert secrets.rest_keys == {}
