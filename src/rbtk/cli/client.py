"""The CLI's one seam to a running rbtk: its HTTP API, with a timeout and the bearer token.

Every failure is translated here, once, into one line on stderr and exit status 1:

    no token, or one that cannot be sent   -> how to set RBTK_TOKEN and create a token
    --url/RBTK_URL is not an http(s) URL   -> what is expected
    connection refused, DNS, TLS, timeout  -> "cannot reach rbtk at URL: ..."
    401 / 403                              -> the token was refused / lacks the scope
    404 from a route the server lacks, or  -> "is that rbtk, and as recent as this CLI?"
      an answer without the keys expected
    other 4xx, 5xx                         -> the server's `detail`
    an answer that is not JSON             -> what came back, in short

The token travels as a `Secret`, so it shows masked if a traceback ever prints locals.
"""

from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Literal

import httpx

from rbtk.cli.common import fail
from rbtk.runtime.secrets import Secret

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0  # above the server's own PagerDuty timeout, so a test event can finish

Scope = Literal["admin", "events"]
Params = Mapping[str, str | int | bool | None]
Keys = Collection[str]


class Api:
    """A client of one rbtk server; use it as a context manager."""

    def __init__(self, url: str, token: Secret | None, *, scope: Scope = "admin") -> None:
        self.url = _checked_url(url)
        self._scope = scope
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {_checked_token(token, scope).reveal()}"},
            timeout=TIMEOUT_S,
        )

    def __enter__(self) -> "Api":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def get(self, path: str, *, params: Params | None = None, expect: Keys = ()) -> Any:
        return self.call("GET", path, params=params, expect=expect)

    def post(self, path: str, body: object, *, expect: Keys = ()) -> Any:
        return self.call("POST", path, body=body, expect=expect)

    def patch(self, path: str, body: object, *, expect: Keys = ()) -> Any:
        return self.call("PATCH", path, body=body, expect=expect)

    def delete(self, path: str, *, params: Params | None = None) -> Any:
        return self.call("DELETE", path, params=params)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Params | None = None,
        expect: Keys = (),
    ) -> Any:
        """The decoded JSON answer (None when there is no body); any failure exits."""
        return self.answer(method, path, body=body, params=params, expect=expect)[1]

    def answer(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Params | None = None,
        expect: Keys = (),
        allow: Collection[int] = (),
    ) -> tuple[int, Any]:
        """The status and decoded JSON answer, a success holding the keys in `expect`.

        Failures exit, except answers with a `detail` and a status in `allow`.
        """
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._client.request(method, path, json=body, params=query or None)
        except httpx.TimeoutException:
            raise fail(f"cannot reach rbtk at {self.url}: no answer in {TIMEOUT_S:g} s") from None
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach rbtk at {self.url}: {_reason(exc)}") from None
        allowed = response.status_code in allow and _detail(response) is not None
        if not response.is_success and not allowed:
            raise fail(self._explain(method, path, response))
        if not response.content:
            return response.status_code, None
        try:
            decoded = response.json()
        except ValueError:
            raise fail(
                f"rbtk at {self.url} answered {method} {path} with something that is not JSON: "
                f"{_one_line(response.text)[:80]!r}"
            ) from None
        missing = [k for k in expect if not isinstance(decoded, dict) or k not in decoded]
        if response.is_success and missing:
            raise fail(
                f"{self.url} answered {method} {path} without {', '.join(missing)}: "
                "is that rbtk, and as recent as this CLI?"
            )
        return response.status_code, decoded

    def _explain(self, method: str, path: str, response: httpx.Response) -> str:
        status, detail = response.status_code, _detail(response)
        create = f"create one with 'rbtk tokens create --scope {self._scope}'"
        if status == 401:
            return f"rbtk refused the token ({detail or 'unauthorized'}): set RBTK_TOKEN; {create}"
        if status == 403:
            return f"the token may not do this ({detail or 'forbidden'}): {create}"
        if status in (404, 405) and detail in (None, "Not Found", "Method Not Allowed"):
            return f"{self.url} has no {method} {path}: is that rbtk, and as recent as this CLI?"
        if detail:
            return detail
        if status >= 500:
            return f"rbtk at {self.url} failed: {status} {response.reason_phrase}; see its logs"
        return f"rbtk at {self.url} answered {status} {response.reason_phrase}"


def _checked_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise fail(f"--url/RBTK_URL must be an http(s) URL such as {DEFAULT_URL}, not {url!r}")
    return url.rstrip("/")


def _checked_token(token: Secret | None, scope: Scope) -> Secret:
    if token is None or not token.reveal().strip():
        raise fail(
            "no API token: set RBTK_TOKEN to a token of this server; "
            f"create one there with 'rbtk tokens create --scope {scope}'"
        )
    value = token.reveal().strip()
    # A header cannot carry spaces or control characters; never echo what was given.
    if not (value.isascii() and value.isprintable()) or " " in value:
        raise fail("RBTK_TOKEN is not a token: it has spaces or characters a token cannot have")
    return Secret(value)


def _detail(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    return _one_line(detail) if isinstance(detail, str) and detail.strip() else None


def _reason(exc: httpx.HTTPError) -> str:
    return _one_line(str(exc)) or type(exc).__name__


def _one_line(text: str) -> str:
    return " ".join(text.split())
