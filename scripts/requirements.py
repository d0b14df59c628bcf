"""Print the project's Python requirements (runtime + dev) from pyproject.toml, one per line.

The Makefile installs them into .venv before maturin builds the extension, so the build step
never has to resolve dependencies itself.
"""

import tomllib
from pathlib import Path

data = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
project = data["project"]
for req in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
    print(req)
