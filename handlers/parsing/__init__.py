"""Parsing what people type in the groups: pure functions of (text, context), no database."""

from .kinds import LEADING_MENTIONS, ParseSpec, Placement, Trigger, Triggered, claimed_elsewhere
from .normalize import normalize, to_number
from .parser import MessageParser
from .result import NONE, NOTHING, ROLES, MessageContext, ParseResult, Payload, Problem, Role
from .vocabulary import Vocabulary

__all__ = [
    "LEADING_MENTIONS",
    "NONE",
    "NOTHING",
    "ROLES",
    "MessageContext",
    "MessageParser",
    "ParseResult",
    "ParseSpec",
    "Payload",
    "Placement",
    "Problem",
    "Role",
    "Trigger",
    "Triggered",
    "Vocabulary",
    "claimed_elsewhere",
    "normalize",
    "to_number",
]
