"""``python -m paysim.store``: prints the table layouts (the generated part of docs/store.md)."""

from paysim.store.ddl import markdown
from paysim.store.models import TABLES

print(markdown(TABLES), end="")
