"""``python -m simulators``: see `simulators.cli`."""

import sys

from simulators.cli import main

sys.exit(main())
