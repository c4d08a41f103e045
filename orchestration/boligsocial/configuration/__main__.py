"""`python -m boligsocial.configuration`: exit 1, after one sentence, when the installation's
configuration cannot be used (the Makefile asks before it starts the UI or a service)."""

import sys

from boligsocial.configuration.config import load_or_say

sys.exit(0 if load_or_say() else 1)
