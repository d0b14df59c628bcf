"""The ``paysim`` command line: thin Typer shells over the library."""
