"""The PagerDuty pipeline: the stages every page passes (`stages.py`), each connector's
lane (`lanes.py`), the storm gate (`storm_gate.py`) and coalescing with what waits unsent."""
