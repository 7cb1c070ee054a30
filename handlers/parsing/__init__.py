"""Parsing what people type in the groups: pure functions of (text, context), no database."""

from .normalize import normalize, to_number
from .parser import MessageParser
from .result import ROLES, MessageContext, ParseResult, Problem, Role
from .vocabulary import Vocabulary

__all__ = [
    "ROLES",
    "MessageContext",
    "MessageParser",
    "ParseResult",
    "Problem",
    "Role",
    "Vocabulary",
    "normalize",
    "to_number",
]
