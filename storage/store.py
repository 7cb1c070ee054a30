"""One unit of work: every repository over one session, committed together."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .repos.bindings import ChatBindings
from .repos.clock import MissedReports, ScheduledNotices, ScheduledSends
from .repos.data_key import DataKeys
from .repos.inbound import InboundMessages
from .repos.notices import Notices
from .repos.outbox import Outbox
from .repos.people import AuditLog, ObservedPeople
from .repos.records import CheckpointEntries, Donations, InspectionItems
from .repos.reports import DailyReports
from .repos.roles import PersonRoles
from .repos.temperature_lists import TemperatureListLines


class Store:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.inbound = InboundMessages(session)
        self.bindings = ChatBindings(session)
        self.roles = PersonRoles(session)
        self.reports = DailyReports(session)
        self.checkpoints = CheckpointEntries(session)
        self.donations = Donations(session)
        self.inspections = InspectionItems(session)
        self.notices = Notices(session)
        self.outbox = Outbox(session)
        self.scheduled_sends = ScheduledSends(session)
        self.scheduled_notices = ScheduledNotices(session)
        self.missed_reports = MissedReports(session)
        self.people = ObservedPeople(session)
        self.audit = AuditLog(session)
        self.temperature_lists = TemperatureListLines(session)
        self.data_keys = DataKeys(session)
