"""A minimal Events API sink: answers every POST /v2/enqueue with 202 and remembers it.

Not PagerDuty: no validation, no alerts, no rate limits. It exists to tell rbtk's own
delivery ceiling apart from the emulator's (a FastAPI app sharing the same two cores).
`GET /_inspect/events` answers in the emulator's format (received_at, event_action,
dedup_key, and the payload's summary) for the events it accepted. Used by
`bench/delivery.py --sink raw` and `bench/vs_alertmanager.py`.

For outages (`bench/recovery.py`), `PUT /_control/mode` with `{"mode": ...}` switches it:
`ok` (202, the default), `fail` (500 to everything) or `hang` (accepts the request and never
answers it; a request left hanging stays so until the client gives up, as behind a dead
load balancer). `GET /_inspect/requests` lists when every POST arrived and in which mode.

    .venv/bin/python bench/sink.py --port 8086
"""

import argparse
import asyncio
import json
from datetime import UTC, datetime

import uvloop
from aiohttp import web

ACCEPTED = {"status": "success", "message": "Event processed"}
MODES = ("ok", "fail", "hang")


def create_app() -> web.Application:
    received: list[tuple[datetime, str, str, str]] = []
    requests: list[tuple[datetime, str]] = []
    state = {"mode": "ok"}
    never = asyncio.Event()  # never set: what a hung request waits for

    async def enqueue(request: web.Request) -> web.Response:
        mode = state["mode"]
        requests.append((datetime.now(UTC), mode))
        if mode == "fail":
            return web.json_response({"status": "error", "message": "outage"}, status=500)
        if mode == "hang":
            await never.wait()
        body = json.loads(await request.read())
        summary = (body.get("payload") or {}).get("summary", "")
        received.append(
            (datetime.now(UTC), body.get("event_action", ""), body["dedup_key"], summary)
        )
        return web.json_response({**ACCEPTED, "dedup_key": body["dedup_key"]}, status=202)

    async def events(_request: web.Request) -> web.Response:
        listed = [
            {"received_at": _iso(at), "event_action": action, "dedup_key": key, "summary": summary}
            for at, action, key, summary in received
        ]
        return web.json_response({"events": listed})

    async def listed_requests(_request: web.Request) -> web.Response:
        listed = [{"received_at": _iso(at), "mode": mode} for at, mode in requests]
        return web.json_response({"requests": listed})

    async def set_mode(request: web.Request) -> web.Response:
        mode = (await request.json()).get("mode")
        if mode not in MODES:
            return web.json_response({"message": f"mode must be one of {MODES}"}, status=400)
        state["mode"] = mode
        return web.json_response({"mode": mode})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/v2/enqueue", enqueue)
    app.router.add_get("/_inspect/events", events)
    app.router.add_get("/_inspect/alerts", events)  # the harness's "is it up" probe
    app.router.add_get("/_inspect/requests", listed_requests)
    app.router.add_put("/_control/mode", set_mode)
    return app


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(
        create_app(),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
        shutdown_timeout=5,
    )


if __name__ == "__main__":
    main()
