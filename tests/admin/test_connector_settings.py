"""A connector's settings, declared once: every face offers each of them, and the checks say
what to do."""

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from rbtk.admin import connector_settings
from rbtk.admin.connector_settings import ConnectorSettings, InvalidConnector, leaves
from rbtk.api.connectors import ConnectorChange, ConnectorCreate, ConnectorOut
from rbtk.cli.main import app
from rbtk.config_file.document import Connector
from rbtk.policy.severity import Severity
from rbtk.store.tables import connectors

SETTINGS = [leaf.name() for leaf in leaves()]


def test_each_setting_is_stored_in_its_own_column() -> None:
    assert set(SETTINGS) <= set(connectors.c.keys())


@pytest.mark.parametrize("model", [ConnectorCreate, ConnectorChange, ConnectorOut, Connector])
def test_the_api_and_the_file_take_and_show_each_setting(model: type[BaseModel]) -> None:
    assert set(ConnectorSettings.model_fields) <= set(model.model_fields)


def test_a_change_gives_only_what_it_changes_and_a_null_removes_only_what_may_be_none() -> None:
    change = ConnectorChange.model_validate(
        {"max_severity": None, "send_info": None, "storm": {"window_s": 120}}
    )

    assert connector_settings.changes(change) == {"max_severity": None, "storm": {"window_s": 120}}


@pytest.mark.parametrize("command", ["add", "update"])
def test_the_cli_offers_each_setting(command: str) -> None:
    result = CliRunner().invoke(
        app, ["admin", "pd", "connectors", command, "--help"], env={"COLUMNS": "200"}
    )

    for leaf in leaves():
        assert f"--{leaf.flag}" in result.stdout, leaf.name()


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"region": "ap"}, "region: must be 'us' or 'eu', got 'ap'"),
        ({"storm": {"window_s": 5}}, "storm_window_s: must be 10 to 3,600 seconds, got 5"),
        ({"storm": {"threshold": 0}}, "storm_threshold: must be 1 to 100,000 new incidents, got 0"),
        (
            {"max_severity": "urgent"},
            "max_severity: 'urgent' is not a severity; use one of info, warning, error, critical",
        ),
        ({"service_id": "pware01"}, "service_id: 'pware01' is not a PagerDuty service id"),
    ],
)
def test_a_refused_setting_is_named_by_its_field_with_what_to_do(
    given: dict[str, object], said: str
) -> None:
    with pytest.raises(InvalidConnector) as raised:
        connector_settings.parse(given)

    assert str(raised.value).startswith(said)
    assert raised.value.field == said.split(":")[0]


def test_a_change_keeps_what_it_does_not_give() -> None:
    base = ConnectorSettings(send_info=True, max_severity=Severity.WARNING)

    changed = connector_settings.parse({"storm": {"threshold": 50}}, base=base)

    assert (changed.send_info, changed.max_severity, changed.storm.threshold) == (
        True,
        "warning",
        50,
    )
    assert changed.storm.window_s == 60


def test_a_form_gives_the_settings_it_shows_an_unticked_box_off_and_a_number_whole() -> None:
    shown = {"send_info", "max_severity", "storm_threshold"}

    given = connector_settings.from_form({"max_severity": "", "storm_threshold": "30"}, shown)

    assert given == {"send_info": False, "max_severity": None, "storm": {"threshold": 30}}
    with pytest.raises(InvalidConnector) as raised:
        connector_settings.from_form({"storm_threshold": "3o"}, shown)
    assert (raised.value.field, str(raised.value)) == (
        "storm_threshold",
        "storm_threshold: '3o' is not a whole number",
    )


def test_flat_names_join_a_nested_settings_path() -> None:
    flat = connector_settings.flat(ConnectorSettings(), ".")

    assert flat["storm.window_s"] == 60
    assert connector_settings.nested({"storm_window_s": 90}) == {"storm": {"window_s": 90}}
