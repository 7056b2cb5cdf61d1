"""Who may call: API tokens and the settings pages' sessions."""
