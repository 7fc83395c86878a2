"""Routing decisions (pure): who gets an offer, and what a doctor's answer means.

The I/O side (offers sent, deadlines, storage) lives elsewhere and calls these.
"""
