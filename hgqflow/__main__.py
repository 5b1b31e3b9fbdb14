"""``python -m hgqflow`` runs the ``hgq`` command."""

import sys

from hgqflow.cli import main

sys.exit(main())
