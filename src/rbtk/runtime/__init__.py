"""What every stage runs on: settings, the shared context, logs, metrics, secrets, time formats."""
