"""``python -m genomflow``: the same command line as ``genomflow``."""

import sys

from genomflow.cli import main

sys.exit(main())
