"""`rbtk demo`: rbtk and the PagerDuty emulator together, in a throw-away data dir, playing the
documented scenarios on a fast clock so incidents open and close on the pages within a minute.

It prints what it does as it goes and where to look, keeps both running until Ctrl-C (or
SIGTERM), then stops them (rbtk first) and deletes the data dir. Loopback addresses only.
"""

import os
import signal
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from rbtk.cli.common import fail

if TYPE_CHECKING:
    from rbtk.demo.processes import Child
    from rbtk.demo.scenarios import Timing

CONNECTOR = "pd-demo"
# The emulator accepts any 32-character routing key; this one says where it came from.
DEMO_KEY = "rbtkdemo" + "0" * 24
PAGERDUTY = "/settings/integrations/pagerduty"


def demo(
    port: Annotated[int, typer.Option(min=1, max=65535, help="rbtk's port.")] = 8000,
    emulator_port: Annotated[
        int, typer.Option(min=1, max=65535, help="The PagerDuty emulator's port.")
    ] = 8085,
) -> None:
    """Start rbtk and a PagerDuty emulator, add a connector and play the README's scenarios."""
    # Imported here: other commands need not load the HTTP client and the demo's modules.
    import httpx

    from rbtk.demo import processes, scenarios

    for option, wanted in (("--port", port), ("--emulator-port", emulator_port)):
        if not processes.port_free(wanted):
            raise fail(
                f"port {wanted} on {processes.HOST} is in use (an rbtk serve already running?): "
                f"choose another with {option}"
            )
    say = typer.echo
    timing = scenarios.Timing()
    url = f"http://{processes.HOST}:{port}"
    emulator_url = f"http://{processes.HOST}:{emulator_port}"
    children: list[Child] = []
    # SIGTERM stops the demo as Ctrl-C does: children stopped, data dir deleted.
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="rbtk-demo-") as scratch:
        data_dir = Path(scratch)
        env = _environment(data_dir, url, emulator_url, timing)
        try:
            say(f"data dir (deleted on exit): {data_dir}")
            token = _admin_token(env["RBTK_DATABASE_URL"])
            emulator_args = ["pd-emulator", "--host", processes.HOST, "--port", str(emulator_port)]
            children.append(
                processes.start(
                    "the PagerDuty emulator",
                    [*emulator_args, "--rate-limit-per-min", "0"],
                    env,
                    data_dir / "emulator.log",
                    f"{emulator_url}/_inspect/events",
                )
            )
            say(f"PagerDuty emulator at {emulator_url} (incidents: {emulator_url}/_inspect/alerts)")
            children.append(
                processes.start(
                    "rbtk serve",
                    ["serve", "--host", processes.HOST, "--port", str(port)],
                    env,
                    data_dir / "rbtk.log",
                    f"{url}/readyz",
                )
            )
            say(f"rbtk at {url}, its log in {data_dir / 'rbtk.log'}")
            say(
                f"thresholds shortened for the demo: air-gapped pool {timing.airgapped_s:g} s, "
                f"any pool {timing.pool_s:g} s (15 and 60 min in production)"
            )
            say(f"admin token: {token}")
            say(f"  sign in at {url}/settings/sign-in with it, or for the CLI:")
            say(f"  export RBTK_URL={url} RBTK_TOKEN={token}")
            auth = {"Authorization": f"Bearer {token}"}
            with (
                httpx.Client(base_url=url, headers=auth, timeout=10) as api,
                httpx.Client(base_url=emulator_url, timeout=10) as emulator,
            ):
                connector = {
                    "name": CONNECTOR,
                    "integration_key": DEMO_KEY,
                    "enable": ["standard_amendment"],  # off by default; the demo shows it
                }
                api.post("/api/v1/pagerduty/connectors", json=connector).raise_for_status()
                say(f"connector {CONNECTOR} added, paging the emulator (every rule on)")
                say(f"watch: incidents  {url}{PAGERDUTY}/incidents")
                say(f"       deliveries {url}{PAGERDUTY}/deliveries")
                scenarios.play(scenarios.Platform(api, emulator), say, timing)
            say(
                "scenarios played; the amendment's incident stays open until resolved by hand "
                f"({url}{PAGERDUTY}/incidents). Ctrl-C stops the demo."
            )
            while all(child.process.poll() is None for child in children):
                time.sleep(0.5)
            say("a process of the demo exited on its own; stopping the demo")
            raise typer.Exit(1)
        except KeyboardInterrupt:
            say("stopping...")
        except processes.StartFailed as exc:
            raise fail(f"the demo could not start: {exc}") from None
        except httpx.HTTPError as exc:
            raise fail(f"the demo could not reach a process it started: {exc}") from None
        finally:
            # rbtk first: its last sends and their answers are recorded before the emulator goes.
            for child in reversed(children):
                child.stop(timeout_s=30)
    say("stopped: rbtk and the emulator have exited, the data dir is deleted")


def _environment(data_dir: Path, url: str, emulator_url: str, timing: "Timing") -> dict[str, str]:
    """The children's environment: every RBTK_ setting of this shell is left out, so the demo
    never touches the database, keys or endpoints configured there."""
    from cryptography.fernet import Fernet

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RBTK_")},
        "RBTK_DATA_DIR": str(data_dir),
        "RBTK_DATABASE_URL": f"sqlite:///{data_dir / 'rbtk.db'}",
        "RBTK_SECRET_KEY": Fernet.generate_key().decode(),
        "RBTK_PAGERDUTY_URL": f"{emulator_url}/v2/enqueue",
        "RBTK_PAGERDUTY_EU_URL": f"{emulator_url}/v2/enqueue",
        "RBTK_PUBLIC_URL": url,
        "RBTK_RETRY_BASE_S": "0.5",
        "RBTK_RETRY_CAP_S": "5",
        **timing.environment(),
    }


def _admin_token(database: str) -> str:
    """An admin token in the new database, made before rbtk starts (as `rbtk tokens` does)."""
    from rbtk.access import tokens
    from rbtk.store.db import make_engine, migrate

    engine = make_engine(database)
    try:
        migrate(engine)
        with engine.begin() as connection:
            _, token = tokens.create(
                connection, scope=tokens.Scope.ADMIN, name="demo", now=datetime.now(UTC)
            )
    finally:
        engine.dispose()
    return token


def _interrupt(*_: object) -> NoReturn:
    raise KeyboardInterrupt
