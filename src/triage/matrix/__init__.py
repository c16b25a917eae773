"""The matrix format: its model, safe YAML loading, conditions, answers, durations and calendars."""
