"""``python -m paysim`` runs the command line."""

from paysim.cli import main

main()
