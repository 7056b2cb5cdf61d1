"""The delivery log and its upkeep: the log as people read it, the day's activity, what is
undelivered, the stuck-page alarm (`stuck.py`) and retention."""
