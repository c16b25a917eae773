"""Staffing: the roster, the queueing estimate, the replay and the analysis that compares them."""
