"""`rbtk secrets rotate`: re-encrypt every stored secret with the first RBTK_SECRET_KEY key."""

import typer

from rbtk import secret_keys
from rbtk.cli.common import fail, load_settings
from rbtk.cli.secrets.common import open_store


def rotate() -> None:
    """Re-encrypt every stored secret with the first key of RBTK_SECRET_KEY=NEW,OLD, in one
    transaction; afterwards RBTK_SECRET_KEY=NEW alone is enough."""
    engine, vault = open_store(load_settings())
    try:
        with engine.begin() as connection:
            rotated = secret_keys.rotate(connection, vault)
    except secret_keys.CannotRotate as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"connector integration keys: {rotated.connectors}")
    typer.echo(f"Slack webhook URLs: {rotated.channels}")
    typer.echo(f"open incidents' routing keys: {rotated.incidents}")
    typer.echo(f"delivery destinations: {rotated.deliveries}")
    if rotated.rest_keys:
        typer.echo(f"connector REST API keys: {rotated.rest_keys}")
    if rotated.webhook_secrets:
        typer.echo(f"PagerDuty webhook secrets: {rotated.webhook_secrets}")
    typer.echo(
        "Every stored secret is now encrypted with the first key of RBTK_SECRET_KEY. Set "
        "RBTK_SECRET_KEY to that key alone (on every instance) to drop the others."
    )
