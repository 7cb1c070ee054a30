"""`villagebot`: the command line. Each subcommand loads the config once and fails there, clearly."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import Any

from handlers.parsing import ROLES, MessageContext, Vocabulary
from handlers.registry import message_parser
from townconfig import ConfigError, CountyConfig, TownConfig, example_town_text, load_deployment


def _build_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="villagebot", description="乡镇疫情防控群聊机器人 (township epidemic bot)")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--config", help="town (or county) config file (default: ./town.toml, else the example town)"
        )
        return sub

    run = with_config(commands.add_parser("run", help="run the bot on every configured platform"))
    run.add_argument("--accounts", help="a county: run only these accounts, e.g. telegram:tg1,wechat:wx1")
    run.set_defaults(handler=_run, county_handler=_run_county)

    parse = with_config(commands.add_parser("parse", help="show what the bot understands from a message"))
    parse.add_argument("--village", help="the village the group is bound to")
    parse.add_argument("--role", choices=ROLES, default="head", help="who wrote it (default: head)")
    parse.add_argument("--jsonl", action="store_true", help='batch: one {"text","village","role"} per line')
    parse.add_argument(
        "--today", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: today in the town's time zone)"
    )
    parse.add_argument("--workers", type=int, help="--jsonl: processes to parse with (default: one per core, up to 4)")
    parse.set_defaults(handler=_parse)

    report = with_config(commands.add_parser("report", help="the town's report for a day"))
    report.add_argument("--date", help="YYYY-MM-DD (default: today in the town's time zone)")
    report.add_argument("--format", choices=("text", "json", "xlsx", "png"), default="text")
    report.add_argument("--output", help="write to this file instead of standard output")
    report.set_defaults(handler=_report)

    report.add_argument("--audit", action="store_true", help="include the day's audit log")
    report.add_argument("--county", action="store_true", help="a county: every town side by side (the default)")
    report.add_argument("--town", help="a county: one town, by its id or name")
    report.set_defaults(county_handler=_report_county)
    report.add_argument("--trend", action="store_true", help="the 14 days up to --date as a chart (--format png)")

    keygen = commands.add_parser("keygen", help="print a new data key for VILLAGEBOT_DATA_KEY")
    keygen.set_defaults(without_config=lambda args: _people("keygen"))
    purge = with_config(commands.add_parser("purge", help="delete personal data past its retention"))
    purge.set_defaults(handler=lambda args, config: _people("purge", config))
    people = with_config(commands.add_parser("people", help="people under observation, as CSV (masked)"))
    people.add_argument("--village", help="only this village")
    people.add_argument("--full", action="store_true", help="unmasked: needs --admin and the data key; audited")
    people.add_argument("--admin", help="your admin id (platform:id), recorded in the audit log")
    people.set_defaults(
        handler=lambda args, config: _people("export", config, village=args.village, full=args.full, admin=args.admin)
    )
    rotate = with_config(commands.add_parser("rotate-key", help="re-encrypt personal data with a new data key"))
    rotate.set_defaults(handler=lambda args, config: _people("rotate_key", config))

    serve = with_config(commands.add_parser("serve", help="the town office's page (VILLAGEBOT_WEB_TOKEN)"))
    serve.add_argument("--listen", metavar="HOST:PORT", help="where to listen (default: 127.0.0.1:8017)")
    serve.set_defaults(handler=_serve)

    check = with_config(commands.add_parser("check", help="check the config, the database and each platform"))
    check.add_argument("--accounts", help="a county: check only these accounts, e.g. telegram:tg1,wechat:wx1")
    check.set_defaults(handler=_check, county_handler=_check_county)

    example = commands.add_parser("example-config", help="print the example town's config")
    # Never reads a config: `villagebot example-config > town.toml` empties town.toml before it runs.
    example.set_defaults(without_config=lambda args: _print(example_town_text()))
    return root


def _print(text: str) -> int:
    sys.stdout.write(text)
    return 0


def _town_today(config: TownConfig) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(config.town.timezone)).date()


def _parse(args: argparse.Namespace, config: TownConfig) -> int:
    today = args.today or _town_today(config)
    if args.jsonl:
        from bot.parse_batch import default_workers, run_batch

        workers = args.workers if args.workers is not None else default_workers()
        run_batch(config, sys.stdin.buffer, sys.stdout.buffer, workers, today)
        return 0
    parser = message_parser(Vocabulary.from_config(config))
    text = sys.stdin.read()
    context = MessageContext(village=args.village, role=args.role, today=today)
    result = parser.parse(text.strip("\r\n"), context)
    sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    return 0


def _people(command: str, *args: Any, **kwargs: Any) -> int:
    """The personal-data commands, imported only when used: `villagebot parse` must start fast."""
    from bot import people_command

    result: int = getattr(people_command, command)(*args, **kwargs)
    return result


def _check(args: argparse.Namespace, config: TownConfig) -> int:
    from bot.check_command import check

    return check(config)


def _run(args: argparse.Namespace, config: TownConfig) -> int:
    from bot.run import run_bot

    return run_bot(config)


def _serve(args: argparse.Namespace, config: TownConfig) -> int:
    from bot.web.serve import serve

    return serve(config, args.listen)


def _report(args: argparse.Namespace, config: TownConfig) -> int:
    from bot.report_command import write_report

    return write_report(
        config, date=args.date, fmt=args.format, output=args.output, audit=args.audit, trend=args.trend
    )


def _accounts(args: argparse.Namespace) -> list[str] | None:
    given = getattr(args, "accounts", None)
    return [a for a in given.split(",") if a.strip()] if given else None


def _run_county(args: argparse.Namespace, county: CountyConfig) -> int:
    from bot.run import run_county

    return run_county(county, _accounts(args))


def _check_county(args: argparse.Namespace, county: CountyConfig) -> int:
    from bot.check_command import check_county

    return check_county(county, _accounts(args))


def _report_county(args: argparse.Namespace, county: CountyConfig) -> int:
    from bot.county_report_command import write_county_report

    if args.audit or args.trend or args.format == "png":
        print(
            "villagebot: --audit, --trend and --format png are for one town's file (its --config), not a county",
            file=sys.stderr,
        )
        return 2
    return write_county_report(county, town=args.town, date=args.date, fmt=args.format, output=args.output)


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if hasattr(args, "without_config"):
        done: int = args.without_config(args)
        return done
    try:
        config = load_deployment(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"villagebot: config error: {exc}", file=sys.stderr)
        return 2
    if isinstance(config, CountyConfig):
        county_handler = getattr(args, "county_handler", None)
        if county_handler is None:
            print(
                f"villagebot: {config.source} is a county; `villagebot {args.command}` does not take a county "
                "file yet (run, check and report do)",
                file=sys.stderr,
            )
            return 2
        county_code: int = county_handler(args, config)
        return county_code
    if getattr(args, "county", False) or getattr(args, "town", None) or getattr(args, "accounts", None):
        print(f"villagebot: --county, --town and --accounts need a county file; {config.source} is one town",
              file=sys.stderr)
        return 2
    code: int = args.handler(args, config)
    return code


if __name__ == "__main__":
    sys.exit(main())
