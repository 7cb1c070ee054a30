"""People under home observation: registered by the village head, checked daily, released when due.

Personal data goes in encrypted and comes out masked. Without a data key nothing personal is
stored at all; the head is told why, and the log says how to make a key.

An edited registration (the head fixed the name or the date by editing the 登记 message) updates
the person that message registered, with an `edit_person` entry in the audit log; an edited message
that registered nobody is a registration like any other.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from storage.models import ObservedPerson
from storage.personal_data import HOW_TO_MAKE_A_KEY, DataKey

from .. import texts
from ..commands import Command, Verdict
from ..parsing.registration import RegistrationProblem, parse_registration
from ..permissions import Action, allowed
from ..personal_info import mask_id, mask_name, mask_phone
from ..turn import Turn

log = logging.getLogger(__name__)
FEVER_AT = 37.3


def masked(person: ObservedPerson) -> str:
    return " ".join(x for x in (person.name_masked, person.phone_masked, person.id_number_masked) if x)


def _village_for(turn: Turn, named: str | None) -> str | None:
    if named:
        return named
    if turn.target.kind == "village":
        return turn.target.village
    if len(turn.speaker.heads_of) == 1:
        return next(iter(turn.speaker.heads_of))
    return None


async def register_person(turn: Turn, command: Command) -> None:
    key = turn.town.data_key
    if key is None:
        log.warning("a person was not registered: no data key; %s", HOW_TO_MAKE_A_KEY)
        await turn.reply(texts.no_data_key())
        return
    registration = parse_registration(command.argument, turn.town.vocab, turn.day)
    if isinstance(registration, RegistrationProblem):
        await turn.reply(texts.person_refused(registration.reason))
        return
    village = _village_for(turn, registration.village)
    if village is None:
        await turn.reply(texts.person_village_unknown())
        return
    if not allowed(Action.REGISTER_PERSON, turn.speaker.role, for_village=village, heads_of=turn.speaker.heads_of):
        await turn.reply(texts.person_not_allowed())
        return
    if await turn.store.data_keys.stored(hold=True) != key.fingerprint:
        log.error("a person was not registered: %s", texts.DATA_KEY_CHANGED_LOG)
        await turn.reply(texts.data_key_changed())
        return
    index = key.blind_index(registration.id_number) if registration.id_number else None
    earlier = await _registered_by_this_message(turn, village) if turn.message.edited_at is not None else None
    existing = await turn.store.people.by_id_number(index) if index is not None else None
    if existing is not None and existing is not earlier:  # an edit may keep its own id number
        await turn.reply(texts.person_duplicate(existing.id))
        return
    until = registration.returned_on + dt.timedelta(days=turn.town.config.privacy.observation_days)
    details: dict[str, Any] = {
        "name_encrypted": key.encrypt(registration.name, "name"),
        "phone_encrypted": key.encrypt(registration.phone, "phone") if registration.phone else None,
        "id_number_encrypted": key.encrypt(registration.id_number, "id_number") if registration.id_number else None,
        "id_number_index": index,
        "name_masked": mask_name(registration.name),
        "phone_masked": mask_phone(registration.phone) if registration.phone else None,
        "id_number_masked": mask_id(registration.id_number) if registration.id_number else None,
        "origin": registration.origin,
        "returned_on": registration.returned_on,
        "observe_until": until,
    }
    if earlier is not None:
        await _update_edited(turn, earlier, details)
        return
    person = await turn.store.people.add(
        ObservedPerson(
            village=village,
            **details,
            status="observing",
            registered_by=turn.speaker.id,
            registered_at=turn.message.at,
        )
    )
    await turn.store.audit.record(
        actor=turn.speaker.id,
        action="register_person",
        subject=f"{village} #{person.id}",
        at=turn.message.at,
        after={"person": masked(person), "origin": person.origin, "until": until.isoformat()},
    )
    await turn.reply(texts.person_registered(person.id, masked(person), person.origin, person.returned_on, until))


async def _registered_by_this_message(turn: Turn, village: str) -> ObservedPerson | None:
    """The person the edited 登记 message registered when it was sent: by its sender, at the time
    it was sent (an edit keeps that time), still under observation in the village."""
    mine = [
        person
        for person in await turn.store.people.observing(village)
        if person.registered_by == turn.speaker.id and person.registered_at == turn.message.at
    ]
    return mine[-1] if mine else None


async def _update_edited(turn: Turn, person: ObservedPerson, details: dict[str, Any]) -> None:
    """The edited registration's details in place of the person's, kept in the audit log masked."""
    before = {"person": masked(person), "origin": person.origin, "until": person.observe_until.isoformat()}
    for name, value in details.items():
        setattr(person, name, value)
    await turn.store.audit.record(
        actor=turn.speaker.id,
        action="edit_person",
        subject=f"{person.village} #{person.id}",
        at=turn.message.edited_at or turn.message.at,
        before=before,
        after={"person": masked(person), "origin": person.origin, "until": person.observe_until.isoformat()},
    )
    await turn.reply(
        texts.person_edited(person.id, masked(person), person.origin, person.returned_on, person.observe_until)
    )


async def _find(turn: Turn, reference: str, village: str | None) -> ObservedPerson | None:
    """#3, or a name."""
    if reference.startswith("#"):
        person = await turn.store.people.get(int(reference[1:]))
        return person if person is not None and person.status == "observing" else None
    return await observed_by_name(turn, reference, village)


async def observed_by_name(turn: Turn, name: str, village: str | None) -> ObservedPerson | None:
    """The one person under observation in the village with this name (names are decrypted only
    here, and only among the village's own people); None for none, or for two of that name."""
    key: DataKey | None = turn.town.data_key
    if key is None or village is None:
        return None
    if await turn.store.data_keys.stored() != key.fingerprint:
        log.error("a name was not looked up: %s", texts.DATA_KEY_CHANGED_LOG)
        return None
    matches = [
        p
        for p in await turn.store.people.observing(village)
        if p.name_encrypted and key.decrypt(p.name_encrypted, "name") == name
    ]
    return matches[0] if len(matches) == 1 else None


#: 张三 36.5, 张三36.5, 张三 体温:36.5, #3 36.5: a number needs a space (#136.7 is no reading of #1).
_CHECK = re.compile(
    r"(?P<ref>#[0-9]{1,9}(?=\s|体温|:)|[\u4e00-\u9fff·]{2,6}?)\s*(?:体温)?\s*:?\s*"
    r"(?P<reading>(?:3[4-9]|4[0-2])(?:\.[0-9])?)\s*(?:°C|℃|度)?"
)


async def check_temperature(turn: Turn, command: Command) -> Verdict | None:
    """A reading for a registered person; anything else (a report's figure, chat) is the parser's."""
    found = _CHECK.fullmatch(command.argument)
    if found is None:
        return Verdict.DECLINED
    reference, celsius = found["ref"], float(found["reading"])
    village = _village_for(turn, None)
    if not allowed(Action.REGISTER_PERSON, turn.speaker.role, for_village=village, heads_of=turn.speaker.heads_of):
        return Verdict.DECLINED  # "张三 36.5" from anyone else is chat
    person = await _find(turn, reference, village)
    if person is None:
        return Verdict.DECLINED  # no such person here: most likely not meant for the bot
    if turn.speaker.role == "head" and person.village not in turn.speaker.heads_of:
        await turn.reply(texts.person_not_allowed())
        return None
    await turn.store.people.record_temperature(
        person, day=turn.day, celsius=celsius, by=turn.speaker.id, at=turn.message.at
    )
    checks = len(await turn.store.people.temperatures(person.id))
    await turn.reply(texts.temperature_recorded(person.id, person.name_masked, celsius, checks))
    if celsius >= FEVER_AT:
        await turn.tell_leaders(texts.temperature_alert(person.village, person.id, person.name_masked, celsius))
    return None


async def _close(turn: Turn, command: Command, status: str, word: str) -> None:
    number = int(command.argument)
    person = await turn.store.people.get(number)
    if person is None or person.status != "observing":
        await turn.reply(texts.person_not_found(number))
        return
    if not allowed(
        Action.REGISTER_PERSON, turn.speaker.role, for_village=person.village, heads_of=turn.speaker.heads_of
    ):
        await turn.reply(texts.person_not_allowed())
        return
    person.status, person.closed_by, person.closed_at = status, turn.speaker.id, turn.message.at
    await turn.store.audit.record(
        actor=turn.speaker.id,
        action=f"person_{status}",
        subject=f"{person.village} #{person.id}",
        at=turn.message.at,
        before={"status": "observing"},
        after={"status": status},
    )
    await turn.reply(texts.person_closed(number, person.name_masked, word))


async def release_person(turn: Turn, command: Command) -> None:
    await _close(turn, command, "released", "解除居家观察")


async def send_to_hospital(turn: Turn, command: Command) -> None:
    await _close(turn, command, "hospital", "转送医院，移出居家观察名单")
