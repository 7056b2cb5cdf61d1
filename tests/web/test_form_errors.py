"""A refusal on a form: the field is the one the error names, never read from its message."""

from rbtk.admin.connector_settings import InvalidConnector
from rbtk.admin.connectors import InvalidKey
from rbtk.runtime.errors import Conflict, Invalid
from rbtk.web.form_errors import form_errors


def test_the_error_is_shown_at_the_field_it_names_by_that_fields_label() -> None:
    refused = InvalidConnector(
        "storm_window_s: must be 10 to 3,600 seconds, got 5", field="storm_window_s"
    )

    assert form_errors(refused, default="settings") == {
        "storm_window_s": "Storm window: must be 10 to 3,600 seconds, got 5."
    }


def test_a_field_the_form_names_otherwise_is_renamed() -> None:
    refused = InvalidKey("the integration key is empty", field="integration_key")

    assert form_errors(refused, default="rules", renamed={"integration_key": "key"}) == {
        "key": "The integration key is empty."
    }


def test_an_error_about_no_one_field_goes_to_the_default() -> None:
    refused = Conflict("connector 'pd-a' still has 1 open incident")

    assert form_errors(refused, default="name") == {
        "name": "Connector 'pd-a' still has 1 open incident."
    }


def test_a_message_that_starts_like_a_field_is_not_taken_for_it() -> None:
    refused = Invalid("reason: the window overlaps another", field="ends_at")

    assert form_errors(refused, default="connector") == {
        "ends_at": "Reason: the window overlaps another."
    }
