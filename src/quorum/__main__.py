"""``python -m quorum`` runs the CLI."""

from quorum.cli import main

main()
