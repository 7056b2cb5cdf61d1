"""The outbox as a queue: delivery workers claim what is due (`claim.py`) and record what
each attempt came to (`record.py`)."""
