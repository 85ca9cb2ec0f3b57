"""The `routing` command line: output checks, help and start-up conventions."""
