"""rbtk as an operator installs it: a wheel built from this checkout, installed into a fresh
venv with no source tree beside it, serves the API, the settings pages (templates and static
files from inside the wheel) and migrates a new database (migrations from inside the wheel).

The wheel is built and installed once per session (about 1 s here: setuptools without an
isolated build environment, then uv from its cache, offline: dependencies come from what
scripts/bootstrap already fetched, nothing from the network).
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import free_port, running
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

CHECKOUT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent  # the project's .venv, where scripts/bootstrap put uv
# What a wheel is built from: pyproject.toml names README.md as the long description.
SOURCES = ("pyproject.toml", "README.md", "src")


@dataclass
class Installed:
    home: Path  # a directory with no source tree in it: the venv and the commands' cwd
    venv: Path

    @property
    def rbtk(self) -> str:
        return str(self.venv / "bin" / "rbtk")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of an operator's shell: nothing pointing into this checkout."""
        kept = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("RBTK_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        return {**kept, **extra}


def _build_wheel(into: Path) -> Path:
    """The wheel of a copy of the checkout's sources: setuptools writes `build/` and
    `*.egg-info` where it builds, and the checkout stays as it is."""
    tree = into / "tree"
    tree.mkdir()
    for name in SOURCES:
        source = CHECKOUT / name
        if source.is_dir():
            ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, tree / name, ignore=ignored)
        else:
            shutil.copy2(source, tree / name)
    dist = into / "dist"
    build = ["build", "--wheel", "--no-build-isolation", "--offline", "-q", "-o", str(dist)]
    subprocess.run([BIN / "uv", *build, tree], check=True, capture_output=True)
    [wheel] = dist.glob("rbtk-*.whl")
    return wheel


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    wheel = _build_wheel(tmp_path_factory.mktemp("build"))
    home = tmp_path_factory.mktemp("operator")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    install = ["pip", "install", "-q", "--offline", "--compile-bytecode", "--python"]
    subprocess.run([BIN / "uv", *install, venv / "bin" / "python", wheel], check=True)
    return Installed(home=home, venv=venv)


def test_the_installed_rbtk_is_the_wheels_not_the_checkouts(installed: Installed) -> None:
    found = subprocess.run(
        [installed.venv / "bin" / "python", "-c", "import rbtk; print(rbtk.__file__)"],
        cwd=installed.home,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=True,
    )

    assert Path(found.stdout.strip()).is_relative_to(installed.venv)


def test_the_installed_rbtk_says_its_version(installed: Installed) -> None:
    said = subprocess.run(
        [installed.rbtk, "--version"],
        cwd=installed.home,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=True,
    )

    assert said.stdout == f"rbtk {version('rbtk')}\n"


def test_the_installed_rbtk_migrates_a_new_data_dir_and_serves_its_pages(
    installed: Installed, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = installed.env(RBTK_DATA_DIR=str(tmp_path / "data"))
    args = [installed.rbtk, "serve", "--host", "127.0.0.1", "--port", str(port)]

    with running(args, f"{url}/healthz", env, tmp_path / "serve.log"):
        ready = wait_for(
            lambda: httpx.get(f"{url}/readyz"),
            until=lambda r: r.status_code == 200,
            timeout_s=30,
            what="/readyz",
        )
        sign_in = httpx.get(f"{url}/settings/sign-in")
        css = httpx.get(f"{url}/settings/static/app.css")

    assert ready.json()["checks"]["schema"]["ok"] is True
    assert sign_in.status_code == 200
    assert 'href="/settings/static/app.css"' in sign_in.text
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.text == (CHECKOUT / "src/rbtk/web/static/app.css").read_text()


def test_the_installed_pd_emulator_answers_as_pagerduty_does(
    installed: Installed, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [installed.rbtk, "pd-emulator", "--host", "127.0.0.1", "--port", str(port)]

    with running(args, f"{url}/_inspect/events", installed.env(), tmp_path / "emulator.log"):
        refused = httpx.post(f"{url}/v2/enqueue", json={"event_action": "trigger"})

    assert refused.status_code == 400


def test_the_installed_demo_starts_both_processes_and_stops_on_ctrl_c(
    installed: Installed,
) -> None:
    port, emulator_port = free_port(), free_port()
    demo = subprocess.Popen(
        [installed.rbtk, "demo", "--port", str(port), "--emulator-port", str(emulator_port)],
        cwd=installed.home,
        env=installed.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(demo.stdout or ()), daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: any(line.startswith("admin token: ") for line in output),
            timeout_s=60,
            what="the demo's admin token",
        )
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
        emulator = httpx.get(f"http://127.0.0.1:{emulator_port}/_inspect/events")
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=30)
        reader.join(timeout=5)
        if demo.stdout is not None:
            demo.stdout.close()

    assert (ready.status_code, emulator.status_code) == (200, 200)
    assert code == 0, "".join(output)
