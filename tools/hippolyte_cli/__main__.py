"""``python -m hippolyte_cli``: the same as the ``hippolyte`` command."""

import sys

from hippolyte_cli import main

sys.exit(main())
