"""What the notify commands share: the API paths."""

from urllib.parse import quote

CHANNELS = "/api/v1/notify/channels"
RULES = "/api/v1/notify/rules"


def channel_path(name: str) -> str:
    return f"{CHANNELS}/{quote(name, safe='')}"
