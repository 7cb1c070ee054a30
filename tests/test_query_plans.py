"""The hot-path queries use indexes on both databases: on a table with enough rows that a scan
would cost, the plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL) searches an index. A full
scan of inbound messages or notice deliveries fails here, not on a county's year of history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from handlers.delivery_reports import settled_notices
from storage import Database
from storage.models import InboundMessage, NoticeDelivery, OutboxMessage

AT = dt.datetime(2020, 2, 17, 9, tzinfo=dt.UTC)
ROWS = 5000


async def fill(database: Database) -> None:
    """Inbound messages, a notice with deliveries and their sends: enough that a scan is planned as one."""
    async with database.transaction() as store:
        session = store.session
        await session.execute(
            insert(InboundMessage),
            [
                {"platform": "telegram", "chat": f"telegram:-{n % 50}", "message_id": str(n), "edit": "",
                 "sender": "telegram:1", "received_at": AT, "kind": "none"}
                for n in range(ROWS)
            ],
        )  # fmt: skip
        notice = await store.notices.create(day=AT.date(), body="通知", by="x", at=AT, villages=[], chat="console:x")
        ids = await store.outbox.enqueue_many(
            [f"telegram:-{n}" for n in range(ROWS)], text="通知", purpose="notice", at=AT, priority=1
        )
        await session.execute(
            insert(NoticeDelivery),
            [
                {"notice_id": notice.id, "village": "村", "chat": f"telegram:-{n}", "outbox_id": i}
                for n, i in enumerate(ids)
            ],
        )
        if database.dialect == "postgresql":
            await session.execute(text("ANALYZE"))


async def plan(database: Database, query: Any) -> str:
    dialect = postgresql.dialect() if database.dialect == "postgresql" else sqlite.dialect()
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN " if database.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    async with database.session() as session:
        if database.dialect == "postgresql":
            await session.execute(text("SET enable_seqscan = off"))  # what the planner does with many rows
        rows = (await session.execute(text(explain + str(compiled)))).all()
    return "\n".join(str(row[-1]) for row in rows)


def scans(found: str, table: str) -> bool:
    """Whether the plan reads the whole table: SQLite's SCAN (of the table, or of a whole index:
    "SCAN t USING COVERING INDEX" reads every entry too) rather than SEARCH; PostgreSQL's Seq Scan."""
    return any(f"SCAN {table}" in line or f"Seq Scan on {table}" in line for line in found.splitlines())


async def test_the_inbound_duplicate_check_searches_the_unique_index(database: Database) -> None:
    await fill(database)
    async with database.session() as session:
        from storage.repos.inbound import InboundMessages

        captured: list[Select[Any]] = []
        real = session.execute

        async def capture(statement: Any, *args: Any, **kwargs: Any) -> Any:
            captured.append(statement)
            return await real(statement, *args, **kwargs)

        session.execute = capture  # type: ignore[method-assign]
        keys = [("telegram", "telegram:-1", "1", ""), ("telegram", "telegram:-2", "99999", "")]
        assert await InboundMessages(session).unseen(keys) == {keys[1]}
    found = await plan(database, captured[0])
    assert not scans(found, "inbound_messages"), found


async def test_a_收到_finds_its_groups_notices_by_the_chat_index(database: Database) -> None:
    await fill(database)
    query = (
        select(NoticeDelivery.notice_id)
        .join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id)
        .where(NoticeDelivery.chat == "telegram:-7", OutboxMessage.status == "sent")
    )
    found = await plan(database, query)
    assert not scans(found, "notice_deliveries") and not scans(found, "outbox"), found


async def test_the_settled_notices_check_reads_the_deliveries_by_their_indexes(database: Database) -> None:
    await fill(database)
    async with database.session() as session:
        touched = list((await session.scalars(select(NoticeDelivery.outbox_id).limit(3))).all())
    found = await plan(database, settled_notices(touched))
    assert not scans(found, "notice_deliveries") and not scans(found, "outbox"), found


async def bound_plan(database: Database, statement: Any) -> str:
    """The plan of a statement as the repository runs it, its values bound as parameters (an UPDATE's
    times cannot always be written as literals)."""
    explain = "EXPLAIN " if database.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    async with database.session() as session:
        connection = await session.connection()
        compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        values = compiled.construct_params()
        positional = tuple(values[name] for name in compiled.positiontup or ())
        processors = compiled._bind_processors
        positional = tuple(
            processors[name](value) if name in processors else value
            for name, value in zip(compiled.positiontup or (), positional, strict=True)
        )
        if database.dialect == "postgresql":
            await session.execute(text("SET enable_seqscan = off"))
        rows = (await connection.exec_driver_sql(explain + str(compiled), positional)).all()
    return "\n".join(str(row[-1]) for row in rows)


async def captured_statements(database: Database, work: Any) -> list[Any]:
    """The statements a repository method sends, without running it for real (rolled back)."""
    captured: list[Any] = []
    async with database.session() as session:
        real = session.execute

        async def capture(statement: Any, *args: Any, **kwargs: Any) -> Any:
            captured.append(statement)
            return await real(statement, *args, **kwargs)

        session.execute = capture  # type: ignore[method-assign]
        session.scalars = lambda statement, *a, **k: _scalars(capture, statement, *a, **k)  # type: ignore[method-assign]
        await work(session)
        await session.rollback()
    return captured


async def _scalars(capture: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
    return (await capture(statement, *args, **kwargs)).scalars()


async def test_the_outbox_claim_finds_due_rows_and_takes_them_by_index(database: Database) -> None:
    await fill(database)
    from storage.repos.outbox import Outbox

    async def claim(session: Any) -> None:
        outbox = Outbox(session)
        due = await outbox.due(AT + dt.timedelta(minutes=1), "telegram", limit=20)
        assert len(due) == 20
        assert len(await outbox.claim_many([row.id for row in due], AT, dt.timedelta(minutes=5))) == 20

    statements = await captured_statements(database, claim)
    assert len(statements) == 2
    for statement in statements:
        found = await bound_plan(database, statement)
        assert not scans(found, "outbox"), found
    unindexed = await bound_plan(database, select(OutboxMessage.id).where(OutboxMessage.text == "通知"))
    assert scans(unindexed, "outbox"), unindexed  # the check sees a scan where there is one


async def test_a_days_revisions_are_read_by_the_village_and_day_index(database: Database) -> None:
    await fill(database)
    from storage.repos.reports import DailyReports

    async def read(session: Any) -> None:
        day = AT.date()
        await DailyReports(session).prefetch([("五星村", day), ("红星村", day)])

    statements = await captured_statements(database, read)
    found = await bound_plan(database, statements[0])
    assert not scans(found, "report_revisions"), found
