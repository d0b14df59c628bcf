"""Test configuration shared by every Python test.

Under CI (``CI`` set) hypothesis runs derandomized: the same examples every run, so a landing
never depends on luck; locally it explores new examples each run.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")
