"""``python -m lrkit ...``: the same command line as the ``lrkit`` console script."""

import sys

from lrkit._cli import main

if __name__ == "__main__":
    sys.exit(main())
