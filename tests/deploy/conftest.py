"""The end-to-end fixtures (a real `rbtk serve`, the PagerDuty emulator), for the tests
that hold what ships in deploy/ to what rbtk really exposes."""

from tests.e2e.conftest import admin, emulator, env, start

__all__ = ["admin", "emulator", "env", "start"]
