"""docs/deploy.md as an operator follows it: every `sh` block runs, in order, as written,
on this machine's stand-ins for the production paths, ports and database (the doc names
them). The single-instance sections are one shell session, as an operator's would be: the
data dir exported in one section is the one backed up, upgraded and restored in the next."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import Templates, empty
from tests.e2e.processes import free_port

pytestmark = pytest.mark.e2e

DOC = Path(__file__).parents[2] / "docs" / "deploy.md"
ONE_INSTANCE = ["Install", "One instance (SQLite)", "Backups", "Upgrading", "Restoring"]
SEVERAL = ["Several instances (PostgreSQL)", "Restoring on PostgreSQL"]
DATABASE = "postgresql+psycopg://rbtk@db.internal:5432/rbtk"
STOP = "kill $(jobs -p) && wait"  # what `systemctl stop rbtk` does to the serves started


def sh_blocks() -> dict[str, list[str]]:
    """Each `## ` section's `sh` blocks, in the order the doc gives them."""
    sections: dict[str, list[str]] = {}
    for section in re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)[1:]:
        title, _, body = section.partition("\n")
        sections[title.strip()] = re.findall(r"^```sh\n(.*?)^```", body, re.S | re.M)
    return sections


def run(sections: list[str], tmp_path: Path, **replaced: str) -> subprocess.CompletedProcess[str]:
    """The sections' blocks as one bash session, stand-ins put in, background serves
    stopped at its end whatever happens."""
    blocks = sh_blocks()
    script = "\n".join(block for title in sections for block in blocks[title])
    stand_ins = {
        "/var/lib/rbtk": str(tmp_path / "var" / "lib" / "rbtk"),
        "/var/backups/rbtk": str(tmp_path / "var" / "backups" / "rbtk"),
        "8000": str(free_port()),
        "8001": str(free_port()),
        "0.0.0.0": "127.0.0.1",
        "systemctl stop rbtk": STOP,
        **replaced,
    }
    for production, here in stand_ins.items():
        script = script.replace(production, here)
    prologue = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT\n"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RBTK_")}
    return subprocess.run(
        ["bash", "-c", prologue + script],
        cwd=tmp_path,
        env={**env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_every_sh_block_is_in_a_section_these_tests_run() -> None:
    with_commands = {title for title, blocks in sh_blocks().items() if blocks}

    assert with_commands == set(ONE_INSTANCE) | set(SEVERAL)


def test_one_instance_installs_serves_backs_up_upgrades_and_restores_as_written(
    tmp_path: Path,
) -> None:
    ran = run(ONE_INSTANCE, tmp_path)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    backups = tmp_path / "var" / "backups" / "rbtk"
    assert [p.name for p in backups.iterdir()] == ["rbtk.db"]
    assert "already at this rbtk's schema" in ran.stdout  # Upgrading's `rbtk migrate`
    assert ran.stdout.count('{"status":"ready"') == 2  # served, then served what was restored


@pytest.fixture
def postgres_url(templates: Templates, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "empty").mkdir()
    with empty("postgresql", templates, tmp_path / "empty") as url:
        yield url


@pytest.mark.postgres
def test_several_instances_on_postgresql_migrate_serve_dump_and_restore_as_written(
    postgres_url: str, tmp_path: Path
) -> None:
    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    (tmp_path / "var" / "backups" / "rbtk").mkdir(parents=True)

    ran = run(
        SEVERAL,
        tmp_path,
        **{DATABASE: postgres_url, DATABASE.replace("+psycopg", ""): libpq},
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count('{"status":"ready"') == 2  # both instances
    assert (tmp_path / "var" / "backups" / "rbtk" / "rbtk.dump").stat().st_size > 0
