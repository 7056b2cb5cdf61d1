"""`rbtk pd-emulator`: serve the PagerDuty Events API v2 emulator in the foreground."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rbtk.emulator.services import Service


def pd_emulator(
    host: Annotated[
        str, typer.Option(help="Address to listen on. Loopback unless you mean to expose it.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8085,
    rate_limit_per_min: Annotated[
        int,
        typer.Option(min=0, help="Events accepted per routing key per rolling minute; 0 is off."),
    ] = 120,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fraction of events answered 500.")
    ] = 0.0,
    latency_ms: Annotated[
        int, typer.Option(min=0, help="Delay added before answering each event.")
    ] = 0,
    drop_connections: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Fraction of events whose connection is closed."),
    ] = 0.0,
    force_429: Annotated[
        int, typer.Option("--force-429", min=0, help="Answer the next N events 429.")
    ] = 0,
    retry_after: Annotated[
        int | None, typer.Option(min=0, help="Retry-After seconds on the forced 429s.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for the injected faults, so runs repeat.")
    ] = None,
    services: Annotated[
        Path | None,
        typer.Option(
            help='JSON list of services: [{"id", "name", "integration_keys", ...}], as '
            "PUT /_control/services/{id} takes them (with the id). Other keys feed PDEFAULT.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    rest_token: Annotated[
        list[str] | None,
        typer.Option(help="A token the REST API accepts (Token token=...); repeatable."),
    ] = None,
) -> None:
    """Emulate PagerDuty's Events API v2 (POST /v2/enqueue) and the REST API subset rbtk
    reads (GET /incidents, /services/{id}), with /_inspect and /_control."""
    # The emulator (FastAPI and all) is imported by this command only: every other `rbtk`
    # command starts without it.
    from rbtk.emulator.config import EmulatorConfig
    from rbtk.emulator.faults import Faults
    from rbtk.emulator.rest_access import RestSettings
    from rbtk.emulator.server import serve

    faults = Faults(
        error_rate=error_rate,
        force_429=force_429,
        retry_after=retry_after,
        latency_ms=latency_ms,
        drop_connections=drop_connections,
    )
    config = EmulatorConfig(
        rate_limit=rate_limit_per_min,
        faults=faults,
        seed=seed,
        services=() if services is None else _services(services),
        rest=RestSettings(tokens=tuple(rest_token or ())),
    )
    serve(config, host=host, port=port)


def _services(path: Path) -> "tuple[Service, ...]":
    from pydantic import TypeAdapter, ValidationError

    from rbtk.emulator.services import Service

    try:
        return TypeAdapter(tuple[Service, ...]).validate_python(json.loads(path.read_text()))
    except (ValueError, ValidationError) as invalid:
        raise typer.BadParameter(f"{path} is not a JSON list of services: {invalid}") from None
