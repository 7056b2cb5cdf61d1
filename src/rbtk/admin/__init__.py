"""The one write path for configuration, shared by the API, the CLI and the settings pages."""
