"""Chat channels' rows: one per channel an event goes to (`messages.py`), a burst sent as
one digest a minute (`digests.py`)."""
