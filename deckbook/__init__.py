"""deckbook: one question bank → Anki decks, a PDF handbook and an EPUB 3 e-book."""
