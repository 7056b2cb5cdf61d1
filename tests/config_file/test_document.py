"""The document on its own: each problem named with the line and column it is on."""

import pytest
from pydantic import ValidationError

from rbtk.config_file.document import Document, problems, secret_fields
from rbtk.config_file.lines import Source, Unreadable
from rbtk.config_file.problems import Problem, from_validation

FILE = """\
version: 1
pagerduty:
  connectors:
  - name: pd-production
    key_env: PD_PRODUCTION_KEY
    region: us
  - name: pd-staging
    key_file: keys/pd-staging.key
    is_default: false
    rules:
      standard_amendment: true
    storm:
      threshold: 50
    max_severity: huge
  routing: []
chat:
  channels: []
  rules: []
suppressions: []
"""


def located(text: str) -> list[str]:
    source = Source.read(text, "rbtk.yaml")
    try:
        document = Document.model_validate(source.data)
    except ValidationError as exc:
        return [source.locate(p) for p in from_validation(exc, Document, secret_fields())]
    return [source.locate(p) for p in problems(document)]


def test_a_bad_value_is_named_with_its_line_and_column() -> None:
    assert located(FILE) == [
        "rbtk.yaml:14:19: pagerduty.connectors[1].max_severity: Input should be 'info', "
        "'warning', 'error' or 'critical'"
    ]


def test_a_good_file_has_no_problems() -> None:
    assert located(FILE.replace("huge", "warning")) == []


def test_a_key_the_file_leaves_out_is_named_where_it_belongs() -> None:
    text = FILE.replace("huge", "warning").replace("  routing: []\n", "")

    assert located(text) == ["rbtk.yaml:3:3: pagerduty.routing: Field required"]


def test_a_key_written_in_the_file_is_refused_saying_where_it_belongs() -> None:
    text = FILE.replace("huge", "warning").replace(
        "    region: us\n", "    region: us\n    key: e93facc04764012d7bfb002500d5a1b2\n"
    )

    assert located(text) == [
        "rbtk.yaml:7:10: pagerduty.connectors[0].key: never write a secret in the file: put it "
        "in an environment variable and name it with key_env (or in a file, named with key_file)"
    ]


def test_a_connector_names_its_key_once() -> None:
    text = FILE.replace("huge", "warning").replace("    key_env: PD_PRODUCTION_KEY\n", "")

    assert located(text) == [
        "rbtk.yaml:4:5: pagerduty.connectors[0]: give key_env (the environment variable holding "
        "the connector's 32-character Integration Key) or key_file (a file holding it), one of "
        "them: the file never holds it itself"
    ]


def test_a_chat_channel_of_an_unknown_kind_is_named_with_its_line() -> None:
    text = FILE.replace("huge", "warning").replace(
        "  channels: []\n", "  channels:\n  - name: ops-teams\n    kind: teams\n"
    )

    [problem] = located(text)
    assert problem.startswith("rbtk.yaml:18:5: chat.channels[0]: Input tag 'teams' found using")


def test_rules_and_windows_name_only_what_the_file_declares() -> None:
    routing = "  routing:\n  - project: staging-*\n    connectors: [pd-staging, pd-qa]\n"
    text = (
        FILE.replace("huge", "warning")
        .replace("  routing: []\n", routing)
        .replace(
            "suppressions: []\n",
            "suppressions:\n- connector: pd-prod\n  starts_at: 2026-05-25T01:00:00Z\n"
            "  ends_at: 2026-05-25T03:00:00Z\n  reason: Maintenance\n",
        )
    )

    assert located(text) == [
        "rbtk.yaml:17:30: pagerduty.routing[0].connectors[1]: no connector named 'pd-qa' in "
        "this file: declare it under pagerduty.connectors",
        "rbtk.yaml:22:14: suppressions[0].connector: no connector named 'pd-prod' in this file: "
        "declare it under pagerduty.connectors",
    ]


def test_a_time_without_a_timezone_is_refused() -> None:
    text = FILE.replace("huge", "warning").replace(
        "suppressions: []\n",
        "suppressions:\n- connector: pd-staging\n  starts_at: 2026-05-25T01:00:00\n"
        "  ends_at: 2026-05-25T03:00:00Z\n  reason: Maintenance\n",
    )

    assert located(text) == [
        "rbtk.yaml:21:14: suppressions[0].starts_at: has no timezone; add Z or an offset such "
        "as +02:00"
    ]


def test_text_that_is_not_yaml_names_where_the_parser_gave_up() -> None:
    with pytest.raises(Unreadable) as refused:
        Source.read("version: 1\npagerduty: [\n", "rbtk.yaml")

    assert refused.value.position is not None
    assert (refused.value.position.line, str(refused.value)) == (
        3,
        "is not valid YAML: expected the node content, but found '<stream end>'",
    )


def test_a_problem_reads_as_its_path() -> None:
    assert str(Problem(("pagerduty", "connectors", 0, "rules", "pool_offline"), "bad")) == (
        "pagerduty.connectors[0].rules.pool_offline: bad"
    )


def test_a_rest_key_is_optional_but_named_once() -> None:
    text = FILE.replace("huge", "warning").replace(
        "    region: us\n",
        "    region: us\n    rest_key_env: PD_REST_KEY\n    rest_key_file: keys/rest.key\n",
    )

    assert located(FILE.replace("huge", "warning")) == []
    assert located(text) == [
        "rbtk.yaml:4:5: pagerduty.connectors[0]: give rest_key_env (the environment variable "
        "holding the connector's 20-character PagerDuty REST API key) or rest_key_file (a file "
        "holding it), not both"
    ]


def test_a_rest_key_written_in_the_file_is_refused_saying_where_it_belongs() -> None:
    text = FILE.replace("huge", "warning").replace(
        "    region: us\n", "    region: us\n    rest_key: u+Rz8pKq3vW9xYb2wxyz\n"
    )

    assert located(text) == [
        "rbtk.yaml:7:15: pagerduty.connectors[0].rest_key: never write a secret in the file: "
        "put it in an environment variable and name it with rest_key_env (or in a file, named "
        "with rest_key_file)"
    ]


def test_a_service_id_that_is_not_one_is_named_with_its_line() -> None:
    text = FILE.replace("huge", "warning").replace(
        "    region: us\n", "    region: us\n    service_id: p1abcde\n"
    )

    assert located(text) == [
        "rbtk.yaml:7:17: pagerduty.connectors[0].service_id: 'p1abcde' is not a PagerDuty "
        "service id: copy it from the service's URL in PagerDuty (…/service-directory/PXXXXXX), "
        "e.g. 'P1ABCDE'"
    ]


def test_a_misspelt_key_is_named_with_the_closest_allowed_one() -> None:
    text = FILE.replace("    max_severity: huge\n", "    max_severty: warning\n")

    assert located(text) == [
        "rbtk.yaml:14:18: pagerduty.connectors[1].max_severty: unknown key 'max_severty'; "
        "did you mean 'max_severity'?"
    ]


def test_a_misspelt_key_of_a_chat_channel_is_matched_against_its_kinds_keys() -> None:
    text = FILE.replace("huge", "warning").replace(
        "  channels: []\n",
        "  channels:\n  - name: ops-slack\n    kind: slack\n    webhok_url_env: OPS_SLACK\n",
    )

    assert located(text)[-1] == (
        "rbtk.yaml:20:21: chat.channels[0].slack.webhok_url_env: unknown key 'webhok_url_env'; "
        "did you mean 'webhook_url_env'?"
    )
