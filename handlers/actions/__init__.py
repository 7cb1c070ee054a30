"""One module per kind of action; each takes a Turn and what was understood, and sends through it."""
