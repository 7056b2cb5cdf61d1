"""`python -m rbtk`: the `rbtk` command, with this interpreter (how `rbtk demo` starts its
children, so they run the same rbtk as it, whatever is on PATH)."""

from rbtk.cli.main import app

app(prog_name="rbtk")
