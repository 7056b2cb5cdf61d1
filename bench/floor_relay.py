"""A floor for bench/floor.py: the least a Python service can do with these events.

It parses each POST, answers 202 and forwards a PagerDuty-shaped trigger or resolve to the
sink; `--durable` first stores each request's events and outbox rows with raw sqlite3 (WAL,
synchronous=FULL, one writer thread committing whatever waits as one group) and records each
answer the same way. No validation, no policy, no routing, no lanes, no budgets, no leases:
what rbtk does per event beyond this is its own cost.

    python bench/floor_relay.py PORT SINK_URL [--durable]
"""

import asyncio
import json
import os
import queue
import sqlite3
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PORT, SINK, DURABLE = int(sys.argv[1]), sys.argv[2], "--durable" in sys.argv
KEY = "0123456789abcdef0123456789abcdef"
work: "queue.SimpleQueue[tuple[str, Any, asyncio.Future[None]]]" = queue.SimpleQueue()
outgoing: "asyncio.Queue[tuple[int, dict[str, Any]]]"
loop: asyncio.AbstractEventLoop
tasks: set["asyncio.Task[None]"] = set()  # referenced, so none is collected while it runs


def spawn(coroutine: Any) -> None:
    task = asyncio.create_task(coroutine)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def body(event: dict[str, Any]) -> dict[str, Any]:
    action = "trigger" if event["type"].endswith("offline") else "resolve"
    key = "rbtk:pool-offline:bench:" + event["data"]["pool_name"]
    payload = {"summary": key, "source": "rbtk", "severity": "critical"}
    return {"routing_key": KEY, "event_action": action, "dedup_key": key, "payload": payload}


def writer() -> None:
    db = sqlite3.connect(os.path.join(tempfile.mkdtemp(), "floor.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT, status TEXT)")
    while True:
        group = [work.get()]
        while True:
            try:
                group.append(work.get_nowait())
            except queue.Empty:
                break
        db.execute("BEGIN IMMEDIATE")
        rows = []
        for kind, items, _ in group:
            if kind == "events":
                for event in items:
                    db.execute("INSERT INTO events (body) VALUES (?)", (json.dumps(event),))
                    page = body(event)
                    cursor = db.execute(
                        "INSERT INTO outbox (body, status) VALUES (?, 'queued')",
                        (json.dumps(page),),
                    )
                    rows.append((cursor.lastrowid, page))
            else:
                db.executemany("UPDATE outbox SET status = 'sent' WHERE id = ?", items)
        db.execute("COMMIT")
        for _, _, done in group:
            loop.call_soon_threadsafe(done.set_result, None)
        for row in rows:
            loop.call_soon_threadsafe(outgoing.put_nowait, row)


async def store(kind: str, items: Any) -> None:
    done = loop.create_future()
    work.put((kind, items, done))
    await done


async def sender() -> None:
    answered: list[tuple[int]] = []
    flush = asyncio.Event()

    async def recorder() -> None:
        while True:
            await flush.wait()
            flush.clear()
            batch, answered[:] = answered[:], []
            await store("answers", batch)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        slots = asyncio.Semaphore(64)

        async def send(row_id: int, page: dict[str, Any]) -> None:
            async with slots, session.post(f"{SINK}/v2/enqueue", json=page) as response:
                await response.read()
            if DURABLE:
                answered.append((row_id,))
                flush.set()

        if DURABLE:
            spawn(recorder())
        while True:
            row_id, page = await outgoing.get()
            spawn(send(row_id, page))


async def events(request: Request) -> JSONResponse:
    payload = json.loads(await request.body())
    batch = payload.get("events", [payload])
    if DURABLE:
        await store("events", batch)
    else:
        for number, event in enumerate(batch):
            outgoing.put_nowait((number, body(event)))
    return JSONResponse({"accepted": len(batch)}, status_code=202)


async def ready(_: Request) -> JSONResponse:
    return JSONResponse({})


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global loop, outgoing
    loop, outgoing = asyncio.get_running_loop(), asyncio.Queue()
    if DURABLE:
        threading.Thread(target=writer, daemon=True).start()
    spawn(sender())
    yield


app = Starlette(
    routes=[Route("/api/v1/events", events, methods=["POST"]), Route("/readyz", ready)],
    lifespan=lifespan,
)
uvicorn.run(app, host="127.0.0.1", port=PORT, loop="uvloop", http="httptools", log_level="warning")
