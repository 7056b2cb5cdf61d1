"""`rbtk pd-emulator`: serve the PagerDuty Events API v2 emulator in the foreground."""

from typing import Annotated

import typer

from rbtk.emulator.config import EmulatorConfig
from rbtk.emulator.faults import Faults


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
) -> None:
    """Emulate PagerDuty's Events API v2 (POST /v2/enqueue), with /_inspect and /_control."""
    faults = Faults(
        error_rate=error_rate,
        force_429=force_429,
        retry_after=retry_after,
        latency_ms=latency_ms,
        drop_connections=drop_connections,
    )
    config = EmulatorConfig(rate_limit=rate_limit_per_min, faults=faults, seed=seed)
    from rbtk.emulator.server import serve  # the server only for this command (see serve.py)

    serve(config, host=host, port=port)
