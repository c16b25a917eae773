"""Audits and reviews of ticket history against the matrix."""
