"""Draining the outbox: the senders that deliver what handlers queued, and who of them is alive."""
