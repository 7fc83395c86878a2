"""Everything that happens inside one case's transaction: intake, offers, doctors' answers,
status queries, coordinators' actions and timers, around the kit in ``flow.py``."""
