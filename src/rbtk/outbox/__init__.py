"""Stage 4, the outbox: one durable row per notification and destination, from the stages
that decide them to the log that shows what became of them. Its folders, top to bottom:

- `storms/`: a storm's umbrella incident, and what the pages show of each storm;
- `log/`: the delivery log, the day's activity, what is undelivered, the stuck-page alarm,
  retention;
- `fanout/`: the paths that queue pages: notifications, releases of what was held, explain
  (a dry run), release change events;
- `pipeline/`: the stages each page passes, the lanes they keep, the storm gate, coalescing;
- `chat/`: chat channels' messages and their digests;
- `queue/`: claiming rows that are due, recording what each attempt came to;
- `rows.py`, `status.py`: the row, and what it does and where it stands.

The order is enforced by import-linter (pyproject.toml)."""
