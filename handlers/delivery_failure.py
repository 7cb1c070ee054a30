"""Why a send failed, in words of its own module: the Chinese texts name these reasons, and
reading them must not import the transport contract (and asyncio with it) into `villagebot parse`."""

from __future__ import annotations

from enum import StrEnum


class DeliveryFailure(StrEnum):
    """Why a send failed, as the platform told it: stored with the outbox row, read by the
    delivery report (texts.failure_reason)."""

    REMOVED = "removed"  # the bot was removed from the group, blocked, or the group is gone
    NO_RIGHTS = "no_rights"  # the bot is in the group but may not write there
    MOVED = "moved"  # the group moved to another id (a Telegram supergroup upgrade) and could not be followed
    NO_ANSWER = "no_answer"  # the platform did not answer (a timeout, a gateway's 504)
    REFUSED = "refused"  # the platform refused this message (too long, malformed, a bad chat id)
    FAILED = "failed"  # anything else: the network, an unexpected error
