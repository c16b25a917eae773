"""The `triage` command line: the app, its commands, prompts and the interactive session."""
