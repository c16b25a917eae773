"""triage: an executable support escalation matrix."""

__version__ = "0.1.0"
