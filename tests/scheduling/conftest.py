"""Hypothesis profiles for the scheduling property suites.

`ci` (the default) keeps the whole property file to a few seconds; `long` is for a
deliberate hunt: HYPOTHESIS_PROFILE=long pytest tests/scheduling.
"""

import os

from hypothesis import settings

# No example database: it would be written into the work tree. No deadline: the
# brute-force reference is slow by design, and a timing failure would be noise.
settings.register_profile("ci", max_examples=40, deadline=None, database=None)
settings.register_profile("long", max_examples=2500, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
