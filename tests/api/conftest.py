"""An in-process client of the API, without delivery workers."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rbtk.app import create_app
from rbtk.context import Context


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context, workers=False)) as client:
        yield client


@pytest.fixture
def admin(client: TestClient, admin_token: str) -> TestClient:
    """The client, sending an admin token."""
    client.headers["Authorization"] = f"Bearer {admin_token}"
    return client
