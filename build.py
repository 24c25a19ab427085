"""deckbook: build the decks, the handbook and the e-book from source/ (see README.md)."""

from deckbook.cli import main

raise SystemExit(main())
