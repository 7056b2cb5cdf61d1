"""`rbtk demo`: rbtk and the PagerDuty emulator together, playing the documented scenarios.

processes.py  the two children: started on loopback, waited for, stopped in order
scenarios.py  what is played: the README's events, timed against the shortened thresholds
"""
