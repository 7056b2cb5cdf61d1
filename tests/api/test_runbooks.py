"""/api/v1/runbooks: a runbook URL per paging rule, validated and audited."""

import pytest
from fastapi.testclient import TestClient

from rbtk.admin.runbooks import InvalidRunbook, validate_url

URL = "/api/v1/runbooks"
RUNBOOK = "https://wiki.roboticks.test/runbooks/pool-offline"


def test_a_runbook_set_is_listed_with_every_rule_and_audited(admin: TestClient) -> None:
    answer = admin.put(f"{URL}/pool_offline", json={"url": RUNBOOK})

    assert (answer.status_code, answer.json()) == (200, {"rule": "pool_offline", "url": RUNBOOK})
    assert admin.get(URL).json() == {
        "runbooks": [
            {"rule": "evidence_pack_failed", "url": None},
            {"rule": "airgapped_pool_offline", "url": None},
            {"rule": "pool_offline", "url": RUNBOOK},
            {"rule": "post_release_regression", "url": None},
            {"rule": "standard_amendment", "url": None},
        ]
    }
    [entry] = admin.get("/api/v1/audit").json()["entries"]
    assert {k: entry[k] for k in ("actor", "action", "target", "before", "after")} == {
        "actor": "test",
        "action": "runbook.set",
        "target": "pool_offline",
        "before": None,
        "after": {"url": RUNBOOK},
    }


def test_setting_the_same_url_again_records_nothing_new(admin: TestClient) -> None:
    admin.put(f"{URL}/pool_offline", json={"url": RUNBOOK})

    again = admin.put(f"{URL}/pool_offline", json={"url": RUNBOOK})

    assert again.status_code == 200
    assert len(admin.get("/api/v1/audit").json()["entries"]) == 1


def test_unsetting_a_runbook_removes_it_and_unsetting_none_is_404(admin: TestClient) -> None:
    admin.put(f"{URL}/pool_offline", json={"url": RUNBOOK})

    removed = admin.delete(f"{URL}/pool_offline")
    again = admin.delete(f"{URL}/pool_offline")

    assert removed.status_code == 204
    assert (again.status_code, again.json()["detail"]) == (
        404,
        "rule 'pool_offline' has no runbook",
    )
    assert [r["url"] for r in admin.get(URL).json()["runbooks"]] == [None] * 5
    newest = admin.get("/api/v1/audit").json()["entries"][0]
    assert (newest["action"], newest["before"], newest["after"]) == (
        "runbook.unset",
        {"url": RUNBOOK},
        None,
    )


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("wiki.roboticks.test/runbooks", "is not an http(s) address"),
        ("ftp://wiki.roboticks.test/runbooks", "is not an http(s) address"),
        ("javascript:alert(1)", "is not an http(s) address"),
        ("https://wiki.roboticks.test/run books", "must not contain spaces"),
        ("https://wiki.roboticks.test/café", "must be printable ASCII"),
        ("https:///runbooks", "is not an http(s) address"),
        ("https://wiki.roboticks.test/" + "r" * 2021, "must be at most 2,048 characters"),
    ],
)
def test_a_url_pagerduty_could_not_link_is_refused_and_nothing_is_stored(
    admin: TestClient, url: str, said: str
) -> None:
    answer = admin.put(f"{URL}/pool_offline", json={"url": url})

    assert answer.status_code == 422
    assert said in answer.json()["detail"]
    assert [r["url"] for r in admin.get(URL).json()["runbooks"]] == [None] * 5
    assert admin.get("/api/v1/audit").json()["entries"] == []


def test_a_url_of_exactly_2048_characters_is_kept() -> None:
    url = "https://wiki.roboticks.test/" + "r" * 2020

    assert validate_url(url) == url


def test_a_url_longer_than_a_pagerduty_link_is_refused_by_the_write_path_itself() -> None:
    with pytest.raises(InvalidRunbook) as raised:
        validate_url("https://wiki.roboticks.test/" + "r" * 2021)

    assert str(raised.value) == "url: must be at most 2,048 characters, got 2,049"


def test_an_unknown_rule_is_refused(admin: TestClient) -> None:
    answer = admin.put(f"{URL}/pool_ofline", json={"url": RUNBOOK})

    assert answer.status_code == 422
    assert "pool_offline" in answer.text


def test_an_events_token_may_not_set_runbooks(client: TestClient, events_token: str) -> None:
    answer = client.put(
        f"{URL}/pool_offline",
        json={"url": RUNBOOK},
        headers={"Authorization": f"Bearer {events_token}"},
    )

    assert answer.status_code == 403
