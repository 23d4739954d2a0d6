"""How many examples a privacy property test runs: a few in `make test` (derandomised, so the
same ones on every CI run), thousands under `make privacy` (HYPOTHESIS_PROFILE=privacy)."""
from __future__ import annotations

import os

from hypothesis import settings

PRIVACY = os.environ.get("HYPOTHESIS_PROFILE") == "privacy"


def examples(n: int) -> int:
    """n examples in `make test`; the privacy profile's thousands under `make privacy`."""
    return settings.get_profile("privacy").max_examples if PRIVACY else n
