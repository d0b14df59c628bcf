"""``python -m paysim`` runs the command line."""

from paysim.cli.main import main

main()
