"""The paths that queue PagerDuty rows: notifications from events, ticks and resolves by hand
(`notifications.py`), what windows and storms held (`release.py`), explain's dry run, and
release change events (`changes.py`)."""
