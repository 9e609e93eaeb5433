"""Command-line entry point: thin commands over the same services the API uses."""
