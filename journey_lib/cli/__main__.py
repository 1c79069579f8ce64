"""``python -m journey_lib.cli``: the ``journey`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
