"""Stage 4, the outbox: fan-out writes one durable row per destination; rows are claimed,
recorded and listed as the delivery log; probes are the test sends."""
