"""Where deploy/ and docs/ are, and the outside tools that check them."""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
DOCS = ROOT / "docs"


def tool(name: str, package: str) -> str:
    """The path of a command the test needs: beside this Python (scripts/test puts promtool
    there), else on PATH. Without it the test fails, never skips: what it checks would
    otherwise ship unchecked while the suite says all is well."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed: scripts/test installs it from Debian's {package} "
            "package with apt-get; run scripts/test (as root, for apt) or install it yourself",
            pytrace=False,
        )
    return found
