from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from rbtk.emulator import EmulatorConfig, running_emulator
from tests.emulator.builders import TOKEN

StartEmulator = Callable[[EmulatorConfig], httpx.Client]


@pytest.fixture(scope="session")
def shared_emulator_url() -> Iterator[str]:
    with running_emulator(EmulatorConfig(seed=1)) as url:
        yield url


@pytest.fixture
def pd(shared_emulator_url: str) -> Iterator[httpx.Client]:
    """A client of a freshly reset emulator with the default configuration."""
    with httpx.Client(base_url=shared_emulator_url, timeout=5) as client:
        client.post("/_control/reset").raise_for_status()
        yield client


@pytest.fixture
def rest(pd: httpx.Client) -> httpx.Client:
    """`pd` with the REST API open to TOKEN, which every request then carries."""
    pd.put("/_control/rest", json={"tokens": [TOKEN]}).raise_for_status()
    pd.headers["Authorization"] = f"Token token={TOKEN}"
    return pd


@pytest.fixture
def start_emulator() -> Iterator[StartEmulator]:
    """Start an emulator of its own for a test that needs a start-up configuration."""
    with ExitStack() as stack:

        def start(config: EmulatorConfig) -> httpx.Client:
            url = stack.enter_context(running_emulator(config))
            return stack.enter_context(httpx.Client(base_url=url, timeout=5))

        yield start
