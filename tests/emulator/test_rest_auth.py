"""Who may call the REST API and how often: PagerDuty's 401, 403 and 429, and the log that
records every REST request without its token."""

import httpx
import pytest

from tests.emulator.builders import TOKEN

UNAUTHORIZED = {"error": {"message": "Authentication failed", "code": 2006}}
FORBIDDEN = {"error": {"message": "Access Denied", "code": 2010}}
RATE_LIMITED = {"error": {"message": "Rate Limit Exceeded", "code": 2020}}


def configure(pd: httpx.Client, **settings: object) -> None:
    pd.put("/_control/rest", json=settings).raise_for_status()


def get(pd: httpx.Client, token: str | None = TOKEN, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Token token={token}"
    return pd.get("/incidents", headers=headers)


@pytest.mark.parametrize(
    "authorization",
    [None, "Token token=wrong", f"Bearer {TOKEN}", f"Token {TOKEN}", f"token token={TOKEN}"],
)
def test_a_missing_wrong_or_malformed_token_is_answered_401(
    pd: httpx.Client, authorization: str | None
) -> None:
    configure(pd, tokens=[TOKEN])
    headers = {} if authorization is None else {"Authorization": authorization}

    answer = pd.get("/incidents", headers=headers)

    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)


def test_no_token_is_valid_until_one_is_configured(pd: httpx.Client) -> None:
    assert get(pd).status_code == 401


def test_a_full_or_read_only_token_may_read_with_pagerdutys_accept_header(
    pd: httpx.Client,
) -> None:
    configure(pd, tokens=[TOKEN], read_only_tokens=["read-only-token"])
    accept = "application/vnd.pagerduty+json;version=2"

    full = get(pd, Accept=accept)
    read_only = get(pd, "read-only-token", Accept=accept)

    assert (full.status_code, read_only.status_code) == (200, 200)
    assert "ratelimit-limit" not in full.headers


def test_a_forbidden_token_is_answered_403(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN], forbidden_tokens=["forbidden-token"])

    answer = get(pd, "forbidden-token")

    assert (answer.status_code, answer.json()) == (403, FORBIDDEN)


def test_the_next_n_requests_are_throttled_when_asked_to(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN], throttle_next=2, throttle_reset_s=3)

    answers = [get(pd) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].json() == RATE_LIMITED
    assert {k: answers[0].headers[k] for k in ("ratelimit-limit", "ratelimit-remaining",
            "ratelimit-reset")} == {"ratelimit-limit": "960", "ratelimit-remaining": "0",
                                   "ratelimit-reset": "3"}  # fmt: skip
    assert "retry-after" not in answers[0].headers
    assert pd.get("/_control/rest").json()["throttle_next"] == 0


def test_throttle_next_counts_down_as_it_is_spent(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN], throttle_next=3)
    get(pd)

    assert pd.get("/_control/rest").json() == {
        "tokens": [TOKEN],
        "read_only_tokens": [],
        "forbidden_tokens": [],
        "rate_limit": 0,
        "throttle_next": 2,
        "throttle_reset_s": 1,
    }


def test_the_rate_limit_counts_each_token_per_rolling_minute(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN, "other-token"], rate_limit=2)

    answers = [get(pd) for _ in range(3)]
    other = get(pd, "other-token")

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[0].headers["ratelimit-limit"] == "2"
    assert answers[2].json() == RATE_LIMITED
    assert 59 <= int(answers[2].headers["ratelimit-reset"]) <= 60
    assert other.status_code == 200


def test_every_rest_request_is_logged_with_its_token_masked(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN], forbidden_tokens=["forbidden-token"])
    pd.get(
        "/incidents",
        params=[("statuses[]", "triggered"), ("limit", "5")],
        headers={"Authorization": f"Token token={TOKEN}"},
    )
    get(pd, "forbidden-token")
    get(pd, None)

    requests = pd.get("/_inspect/requests").json()["requests"]

    assert [{k: v for k, v in r.items() if k != "received_at"} for r in requests] == [
        {"path": "/incidents", "status": 200, "outcome": "answered", "body": None,
         "method": "GET", "query": "statuses%5B%5D=triggered&limit=5", "token": "••••••••…XYEu"},
        {"path": "/incidents", "status": 403, "outcome": "forbidden", "body": None,
         "method": "GET", "query": "", "token": "••••••••…oken"},
        {"path": "/incidents", "status": 401, "outcome": "unauthorized", "body": None,
         "method": "GET", "query": "", "token": None},
    ]  # fmt: skip
    assert TOKEN not in pd.get("/_inspect/requests").text


def test_enqueue_faults_do_not_reach_the_rest_api(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN])
    pd.put("/_control/faults", json={"error_rate": 1.0, "force_429": True}).raise_for_status()

    assert get(pd).status_code == 200


def test_reset_restores_the_start_up_rest_settings(pd: httpx.Client) -> None:
    configure(pd, tokens=[TOKEN], rate_limit=1)
    get(pd)

    pd.post("/_control/reset")

    assert get(pd).status_code == 401
