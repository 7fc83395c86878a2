"""Routing decisions, pure: no database, no clock, no mail.

The assessment (rules, then the routing plan) from facts loaded beforehand, the
verdict the daemon applies, the routing strategies, the candidates for an offer,
what a doctor's answer means and how a status reads. ``gateway.cases`` loads the
facts, applies the decisions and writes their consequences; import-linter keeps
this package free of I/O.
"""
