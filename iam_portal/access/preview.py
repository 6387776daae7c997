"""What a change would do, before it is saved: who gains and who loses what, where.

`change_preview` runs the very service the save runs (`run`), inside a transaction it always rolls back,
and asks the one resolver about every affected identity before and after. A refusal is the preview's
answer, in the words the save would show. Nothing of a dry run stays: no binding, no audit event, and no
recorded refusal (the audit context's `dry_run`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from iam_portal.access import catalogue, selectors
from iam_portal.access.catalogue import Level
from iam_portal.access.resolver import held_everywhere
from iam_portal.access.services import ActionRefused
from iam_portal.access.subjects import SERVICE_ACCOUNT, Resource, Subject, kind_of, subject_name
from iam_portal.audit.services import audit_context
from iam_portal.identities.models import Group, GroupMembership, User
from iam_portal.orgs.models import Company


@dataclass(slots=True)  # not frozen: a group's preview makes thousands, and frozen ones cost more to make
class Change:
    """One identity on one resource: its effective role and the keys it holds there, before → after."""

    identity: Subject
    resource: Resource
    before: str | None
    after: str | None
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    loses_all_access: bool

    @property
    def name(self) -> str:
        return subject_name(self.identity)

    @property
    def roles(self) -> str:
        """ "Developer → Maintainer", "no role → Reporter"; one role alone when only the keys change."""
        before = catalogue.role_label(self.before) or "no role"
        after = catalogue.role_label(self.after) or "no role"
        return after if before == after else f"{before} → {after}"

    @property
    def counts(self) -> str:
        """ "+ 6 permissions, \u2212 2 permissions"."""
        parts = [
            f"{sign} {len(keys)} permission{'s' if len(keys) != 1 else ''}"
            for sign, keys in (("+", self.gained), ("\u2212", self.lost))
            if keys
        ]
        return ", ".join(parts)

    def as_json(self) -> dict:
        kind = kind_of(self.identity)
        identity = {
            "type": kind.id.replace("-", ""),
            "id": self.identity.client_id if kind.id == SERVICE_ACCOUNT else str(self.identity.pk),
            "name": self.name,
        }
        return {
            "identity": identity,
            "resource": self.resource.path,
            "level": self.resource.level.value,
            "before": self.before,
            "after": self.after,
            "gained": list(self.gained),
            "lost": list(self.lost),
            "losesAllAccess": self.loses_all_access,
        }


SHOWN = 40  # changes a dialog lists; the API answers every one


@dataclass
class Preview:
    changes: list[Change] = field(default_factory=list)
    refused: ActionRefused | PermissionDenied | None = None

    @property
    def message(self) -> str:
        return str(self.refused) if self.refused is not None else ""

    @property
    def shown(self) -> list[Change]:
        """The changes a dialog lists: the first SHOWN (a group of thousands is summed up after them)."""
        return self.changes[:SHOWN]

    @property
    def more(self) -> int:
        return len(self.changes) - len(self.shown)

    def as_json(self) -> dict:
        return {"dryRun": True, "changes": [change.as_json() for change in self.changes]}


class _DryRun(Exception):
    """Raised after the dry run's last read: rolls its transaction back."""


def change_preview(
    *,
    company: Company,
    subjects: Iterable[Subject],
    run: Callable[[], object],
    created: Callable[[object], Iterable[Subject]] | None = None,
) -> Preview:
    """The preview of `run()` (the save's own service call, with its actor and arguments) on `company`: for each
    affected identity (the `subjects`; for a group, its members before and after too; `created(result)`
    names identities the change creates or finds), per resource of the company, the role and the keys
    before and after. `run` is never committed; a refusal becomes `refused`."""
    now = timezone.now()
    subjects = list(subjects)
    pks = [subject.pk for subject in subjects]
    known = _affected(subjects)
    before = _snapshot(company, known, now)
    everyone = known
    try:
        with audit_context(dry_run=True), transaction.atomic():
            result = run()
            everyone = _unique(known + _affected(subjects) + list(created(result) if created else ()))
            after = _snapshot(company, everyone, now)
            raise _DryRun
    except _DryRun:
        pass
    except (ActionRefused, PermissionDenied) as refused:
        return Preview(refused=refused)
    finally:
        # The caller's objects as the database still has them: the service may have renamed one in memory,
        # and Model.delete() clears the pk even when the deletion is rolled back.
        for subject, pk in zip(subjects, pks, strict=True):
            subject.pk = pk
            subject.refresh_from_db()
    resources, held_before = before
    more = [identity for identity in everyone if _key(identity) not in held_before]
    held_before |= _snapshot(company, more, now)[1] if more else {}
    resources |= after[0]
    return Preview(changes=_diff(everyone, resources, held_before, after[1]))


def _key(identity: Subject) -> tuple[str, int]:
    return (kind_of(identity).id, identity.pk)


def _unique(identities: list[Subject]) -> list[Subject]:
    return list({_key(identity): identity for identity in identities}.values())


def _affected(subjects: list[Subject]) -> list[Subject]:
    """The subjects, and the members of those that are groups (one query)."""
    groups = [s.pk for s in subjects if isinstance(s, Group)]
    members = []
    if groups:
        members = list(
            User.objects.filter(
                pk__in=GroupMembership.objects.filter(group_id__in=groups).values("user_id")
            ).order_by("email")
        )
    return _unique([*subjects, *members])


# What one identity holds on one resource: (role, keys shown at that level, reaches it).
_Held = tuple[str | None, frozenset[str], bool]


def _snapshot(company: Company, identities: list[Subject], now) -> tuple[dict, dict]:
    """({resource key: resource}, {identity key: {resource key: (role, keys shown there, reaches it)}}),
    every answer from the resolver: four queries however many identities (`held_everywhere`)."""
    tree, found = held_everywhere(identities, company, now=now)
    seen: dict[tuple, tuple] = {}  # resources held alike are one answer: a group's members share most
    held = {}
    for key, (reaches_company, everywhere) in found.items():
        mine = {}
        for place, on in everywhere.items():
            answer = seen.get((on, place[0]))
            if answer is None:
                keys = on.keys & selectors.KEYS_SHOWN[place[0]]
                answer = seen[(on, place[0])] = (on.role, keys, bool(keys))
            mine[place] = answer
        company_place = next(iter(mine))
        mine[company_place] = (*mine[company_place][:2], reaches_company)
        held[key] = mine
    return {(obj.level, obj.pk): obj for obj in tree}, held


def _diff(identities: list[Subject], resources: dict, before: dict, after: dict) -> list[Change]:
    """The changes, identity by identity, each in the order of the resources (company, then each project
    followed by its environments); what stays as it was is left out."""
    nothing = (None, frozenset(), False)
    changes = []
    sorted_keys: dict[tuple, tuple] = {}  # (keys before, keys after) → (gained, lost), asked once
    for identity in identities:
        was, will = before.get(_key(identity), {}), after.get(_key(identity), {})
        company_key = next(iter(resources))
        # Losing the company says it all: its projects are not listed as lost one by one.
        company_lost = was.get(company_key, nothing)[2] and not will.get(company_key, nothing)[2]
        for resource_key, resource in resources.items():
            before_here, after_here = was.get(resource_key, nothing), will.get(resource_key, nothing)
            if before_here == after_here:
                continue
            (role_before, keys_before, reached), (role_after, keys_after, reaches) = before_here, after_here
            if (keys_before, keys_after) not in sorted_keys:
                sorted_keys[(keys_before, keys_after)] = (
                    tuple(sorted(keys_after - keys_before)),
                    tuple(sorted(keys_before - keys_after)),
                )
            gained, lost = sorted_keys[(keys_before, keys_after)]
            changes.append(
                Change(
                    identity=identity,
                    resource=resource,
                    before=role_before,
                    after=role_after,
                    gained=gained,
                    lost=lost,
                    loses_all_access=reached
                    and not reaches
                    and (
                        resource.level == Level.COMPANY
                        or (resource.level == Level.PROJECT and not company_lost)
                    ),
                )
            )
    return changes
