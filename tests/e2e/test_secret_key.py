"""A changed RBTK_SECRET_KEY is refused at start, and the documented rotation works, with real
`rbtk serve` processes."""

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from rbtk.context import open_context
from rbtk.runtime.settings import Settings
from tests.e2e.conftest import Emulator, Start
from tests.e2e.processes import RBTK, free_port, rbtk
from tests.factories import add_connector, pool_offline
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

REFUSAL = (
    "error: rbtk will not start: the integration keys and webhook URLs stored in the database "
    "cannot be decrypted with RBTK_SECRET_KEY (it is not the key they were encrypted with), "
    "so nothing can be delivered: restore the previous key (RBTK_SECRET_KEY, or secret.key in "
    "RBTK_DATA_DIR when RBTK_SECRET_KEY is unset); to change keys, set RBTK_SECRET_KEY=NEW,OLD "
    "and run 'rbtk secrets rotate'; if the old key is lost, run 'rbtk secrets reset' to enter "
    "the integration keys and webhook URLs again"
)


def serve_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`rbtk serve` expected to exit by itself."""
    port = str(free_port())
    return subprocess.run(
        [RBTK, "serve", "--host", "127.0.0.1", "--port", port],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ready(url: str) -> bool:
    """Ready once the delivery process runs, a moment after the API answers."""
    return bool(httpx.get(f"{url}/readyz").json()["status"] == "ready")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_exits_1_with_another_key_and_rotation_lets_the_old_key_go(
    start: Start, admin: dict[str, str], env: dict[str, str], emulator: Emulator
) -> None:
    old_key = env["RBTK_SECRET_KEY"]
    # A connector stored with the old key (through the one write path, as serve would).
    stored = open_context(
        Settings(
            data_dir=Path(env["RBTK_DATA_DIR"]),
            database_url=env["RBTK_DATABASE_URL"],
            secret_key=old_key,
        )
    )
    add_connector(stored, now=datetime.now(UTC))
    stored.engine.dispose()

    new_key = Fernet.generate_key().decode()
    refused = serve_once({**os.environ, **env, "RBTK_SECRET_KEY": new_key})

    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == REFUSAL

    # The rotation the README documents: NEW,OLD; rotate; NEW alone.
    with start(RBTK_SECRET_KEY=f"{new_key},{old_key}") as service:
        wait_for(lambda: ready(service.url), what="ready")
    rotated = rbtk("secrets", "rotate", env={**env, "RBTK_SECRET_KEY": f"{new_key},{old_key}"})
    assert rotated.returncode == 0, rotated.stderr
    with start(RBTK_SECRET_KEY=new_key) as service:
        wait_for(lambda: ready(service.url), what="ready")
        api = {**admin, "RBTK_URL": service.url}
        offline = pool_offline("p1", datetime.now(UTC) - timedelta(minutes=20))
        sent = rbtk("events", "send", "-", env=api, stdin=json.dumps(offline))
        assert sent.returncode == 0, sent.stderr
        (alert,) = wait_for(lambda: emulator.alerts("open"), what="the page")
    assert alert["dedup_key"] == "rbtk:pool-offline:warehouse:onprem-airgapped"
    assert serve_once({**os.environ, **env, "RBTK_SECRET_KEY": old_key}).returncode == 1
