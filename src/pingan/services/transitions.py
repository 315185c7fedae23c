"""Moving a case through its loop: one function runs any action the rules allow.

The caller states the version it saw (the HTTP ETag); a write against a newer version is refused,
so an operator never overwrites a change they have not seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pingan.domain.access import Actor
from pingan.domain.cases import Action, Case, Command
from pingan.domain.errors import InvalidInput, NotFound, StaleVersion
from pingan.services.clocks import sync_deadline
from pingan.services.dispatch import check_department, suggest
from pingan.services.ports import Env, UnitOfWork


def transition(
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    command: Command,
    env: Env,
    expected_version: int | None = None,
    source: Mapping[str, Any] | None = None,
) -> Case:
    """Apply `command`; `source` (e.g. which departmental system sent it) is kept in the
    timeline entry the action writes."""
    case: Case | None = uow.cases.get(case_id, for_update=True)
    if case is None:
        raise NotFound("case.not_found", case_id=case_id)
    if expected_version is not None and case.version != expected_version:
        raise StaleVersion(case_id=case_id, expected=expected_version, actual=case.version)
    case.authorize(command.action, actor)  # state and permission before the body's contents
    command = _prepare(uow, case, command)
    loaded = case.version
    case.apply(command, actor, env.now())
    if source:
        entry = case.pending_timeline[-1]
        case.pending_timeline[-1] = replace(entry, data={**entry.data, **source})
    if command.photo_ids:
        linked = uow.attachments.attach(command.photo_ids, case.id, actor.user_id)
        if linked != len(set(command.photo_ids)):
            raise InvalidInput("attachment.unknown", ids=list(command.photo_ids))
    sync_deadline(uow, case, env)
    uow.cases.save(case, loaded)
    uow.commit()
    return case


def _prepare(uow: UnitOfWork, case: Case, command: Command) -> Command:
    """Fill in and check what the rules cannot know: routing defaults, merge targets."""
    if command.action is Action.DISPATCH:
        dept = command.department_id
        if not dept:
            suggestion = suggest(uow, case.category_code, case.location_path)
            if suggestion is None:
                raise InvalidInput("dispatch.no_department", category=case.category_code)
            dept = suggestion.department_id
            command = replace(command, department_id=dept)
        check_department(uow, case, dept)
    if command.action is Action.MERGE and command.target_case_id is not None:
        target = uow.cases.get(command.target_case_id)
        if target is None:
            raise NotFound("case.not_found", case_id=command.target_case_id)
        if not target.is_open or target.id == case.id:
            raise InvalidInput("case.merge_target_closed", target=target.id)
    return command
