"""``python -m chartkeeper`` runs the CLI."""

from chartkeeper.cli.main import main

main()
