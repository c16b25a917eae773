"""The decisions: one triage, bulk classification, the ticket's life after triage, lint and diff."""
