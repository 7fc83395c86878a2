"""Eligibility rules: one small pure module per rule, programmes as data.

Entry points: :func:`rules.programmes.load_programmes` and :func:`rules.engine.evaluate`.
"""
