"""``python -m randinspect`` is the ``randinspect`` command."""

import sys

from randinspect.cli import main

sys.exit(main())
