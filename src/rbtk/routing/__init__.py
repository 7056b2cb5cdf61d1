"""Stage 3, routing: which connectors and chat channels a notification goes to, whether a
suppression window holds it, and what each connector's toggles and cap let through."""
