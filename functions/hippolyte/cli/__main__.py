"""``python -m hippolyte.cli``: the same as the ``hippolyte`` command."""

import sys

from hippolyte.cli import main

sys.exit(main())
