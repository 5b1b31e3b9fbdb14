"""``python -m hgq_train`` runs the ``hgq`` command."""

import sys

from hgq_train.cli import main

sys.exit(main())
