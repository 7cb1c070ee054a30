"""Repositories: one class per kind of record, with methods named for what the town does."""
