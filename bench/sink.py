"""A minimal Events API sink: answers every POST /v2/enqueue with 202 and remembers it.

Not PagerDuty: no validation, no alerts, no rate limits. It exists to tell rbtk's own
delivery ceiling apart from the emulator's (a FastAPI app sharing the same two cores).
`GET /_inspect/events` answers in the emulator's format (received_at, event_action,
dedup_key). Used by `bench/delivery.py --sink raw`.

    .venv/bin/python bench/sink.py --port 8086
"""

import argparse
import json
from datetime import UTC, datetime

import uvloop
from aiohttp import web

ACCEPTED = {"status": "success", "message": "Event processed"}


def create_app() -> web.Application:
    received: list[tuple[datetime, str, str]] = []

    async def enqueue(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        received.append((datetime.now(UTC), body.get("event_action", ""), body["dedup_key"]))
        return web.json_response({**ACCEPTED, "dedup_key": body["dedup_key"]}, status=202)

    async def events(_request: web.Request) -> web.Response:
        listed = [
            {
                "received_at": at.isoformat().replace("+00:00", "Z"),
                "event_action": action,
                "dedup_key": key,
            }
            for at, action, key in received
        ]
        return web.json_response({"events": listed})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/v2/enqueue", enqueue)
    app.router.add_get("/_inspect/events", events)
    app.router.add_get("/_inspect/alerts", events)  # the harness's "is it up" probe
    return app


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
