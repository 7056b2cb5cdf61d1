"""deploy/systemd/rbtk.service: valid to systemd, hardened, run as its own user, and given
the time rbtk serve needs to stop without losing the record of a send."""

import configparser
import subprocess
import sys
from pathlib import Path

from rbtk.channels import registry
from rbtk.runtime.settings import Settings
from tests.deploy.tools import DEPLOY, tool

UNIT = DEPLOY / "systemd" / "rbtk.service"
INSTALLED = "/usr/local/bin/rbtk"


def service() -> configparser.SectionProxy:
    # strict=False: systemd allows a key twice (SystemCallFilter=); the last one wins here.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def checkable(tmp_path: Path) -> Path:
    """The unit as shipped, its ExecStart pointing at this checkout's rbtk: verify refuses a
    command that is not there, and a test does not install into /usr/local/bin."""
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} serve " in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(INSTALLED, str(Path(sys.executable).with_name("rbtk"))))
    return copy


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("systemd-analyze", "systemd"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path) -> None:
    verified = analyze("verify", str(checkable(tmp_path)))

    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


def test_systemd_rates_its_exposure_ok_or_better(tmp_path: Path) -> None:
    # Offline: the score from the unit file alone, no running systemd needed. 2.0 and
    # below is what systemd calls "OK" (the scale goes to 10, "UNSAFE").
    rated = analyze("security", "--offline=true", "--threshold=20", str(checkable(tmp_path)))

    assert rated.returncode == 0, rated.stdout + rated.stderr
    assert "Overall exposure level for rbtk.service: 1." in rated.stdout


def test_it_runs_as_its_own_user_writing_only_its_data_directory() -> None:
    unit = service()

    assert (unit["User"], unit["Group"]) == ("rbtk", "rbtk")
    assert unit["StateDirectory"] == "rbtk"
    assert unit["Environment"] == "RBTK_DATA_DIR=/var/lib/rbtk"
    assert unit["ReadWritePaths"] == "/var/lib/rbtk"
    assert (unit["ProtectSystem"], unit["NoNewPrivileges"]) == ("strict", "yes")
    assert unit["CapabilityBoundingSet"] == ""


def test_it_waits_for_in_flight_sends_to_finish_and_be_recorded_before_killing(
    tmp_path: Path,
) -> None:
    # rbtk serve stops in turn: uvicorn's graceful shutdown, then its delivery process while
    # in-flight sends finish (rbtk.cli.serve, rbtk.delivery.process), each bounded by the
    # slowest channel's timeout. Only serve is signalled: it stops its child itself.
    drain_s = registry.drain_s(Settings(data_dir=tmp_path))
    serve_stops_within_s = (int(drain_s) + 5) + (drain_s + 5)
    unit = service()

    assert unit["KillMode"] == "mixed"
    assert int(unit["TimeoutStopSec"]) >= serve_stops_within_s + 15
