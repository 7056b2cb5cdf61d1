"""Stage 5, delivery: the worker that claims outbox rows and sends them through a channel."""
