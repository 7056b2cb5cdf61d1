"""Storms after they open (the storm gate opens them): the umbrella incident the scheduler
tends, and what the pages, the CLI and the API show of each storm and its members."""
