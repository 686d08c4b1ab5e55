"""``python -m loyalty_engine`` is the ``loyalty-engine`` command."""

import sys

from .cli import main

sys.exit(main())
