"""`rbtk admin schema`: the JSON Schema of the configuration document.

Answered from this CLI's own models (`rbtk.config_file.document.schema`), without the API:
editors and CI can check a file with it before it is applied. The same schema is committed
as docs/rbtk-config.schema.json.
"""

import json

import typer


def text() -> str:
    """The schema as printed and as committed."""
    from rbtk.config_file.document import schema as document_schema  # only for this command

    return json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"


def schema() -> None:
    """Print the JSON Schema of the file `rbtk admin export` prints and `apply` takes."""
    typer.echo(text(), nl=False)
