import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rbtk.cli import pd_emulator
from rbtk.emulator import EmulatorConfig, Faults, server
from rbtk.emulator.rest_access import RestSettings
from rbtk.emulator.services import Service
from tests.emulator.builders import ROUTING_KEY


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[EmulatorConfig, str, int]]:
    calls: list[tuple[EmulatorConfig, str, int]] = []

    def serve(config: EmulatorConfig, *, host: str, port: int) -> None:
        calls.append((config, host, port))

    monkeypatch.setattr(server, "serve", serve)
    return calls


def run(*args: str) -> int:
    app = typer.Typer()
    app.command()(pd_emulator.pd_emulator)
    return CliRunner().invoke(app, list(args)).exit_code


def test_it_serves_on_loopback_port_8085_with_pagerdutys_limit_by_default(
    served: list[tuple[EmulatorConfig, str, int]],
) -> None:
    assert run() == 0
    assert served == [(EmulatorConfig(), "127.0.0.1", 8085)]


def test_it_passes_the_limit_faults_and_seed_to_the_emulator(
    served: list[tuple[EmulatorConfig, str, int]],
) -> None:
    exit_code = run(
        "--port", "9000", "--rate-limit-per-min", "3", "--error-rate", "0.2",
        "--latency-ms", "50", "--drop-connections", "0.1", "--force-429", "2",
        "--retry-after", "30", "--seed", "7",
    )  # fmt: skip

    faults = Faults(
        error_rate=0.2, force_429=2, retry_after=30, latency_ms=50, drop_connections=0.1
    )
    assert exit_code == 0
    assert served == [(EmulatorConfig(rate_limit=3, faults=faults, seed=7), "127.0.0.1", 9000)]


def test_it_refuses_an_error_rate_above_one(
    served: list[tuple[EmulatorConfig, str, int]],
) -> None:
    assert run("--error-rate", "1.5") == 2
    assert served == []


def test_it_declares_services_and_rest_tokens_from_the_command_line(
    served: list[tuple[EmulatorConfig, str, int]], tmp_path: Path
) -> None:
    declared = tmp_path / "services.json"
    declared.write_text(
        json.dumps([{"id": "PSERVICE1", "name": "Runners", "integration_keys": [ROUTING_KEY]}])
    )

    exit_code = run("--services", str(declared), "--rest-token", "t1", "--rest-token", "t2")

    [(config, _, _)] = served
    assert exit_code == 0
    assert config.services == (
        Service(id="PSERVICE1", name="Runners", integration_keys=(ROUTING_KEY,)),
    )
    assert config.rest == RestSettings(tokens=("t1", "t2"))


def test_it_refuses_a_services_file_that_is_not_a_list_of_services(
    served: list[tuple[EmulatorConfig, str, int]], tmp_path: Path
) -> None:
    declared = tmp_path / "services.json"
    declared.write_text('{"PSERVICE1": "Runners"}')

    assert run("--services", str(declared)) == 2
    assert served == []
