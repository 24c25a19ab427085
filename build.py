"""deckbook: build the decks, the handbook and the e-book from source/ (see README.md)."""

import logging
import os
import sys

from deckbook.cli import main

code = main()
# Everything is written and closed by now (outputs, ledger, cache, worker pools). Skip the
# interpreter's teardown, which spends ~0.4 s freeing a large bank's objects one by one.
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
