"""Group sync: at each provider sign-in, the user's memberships in *mapped* portal groups follow the claim.

The changes go through the portal's own services with the IDENTITY_PROVIDER actor, one service call (one transaction)
per group, so every rule holds: the escalation guard passes for it, the last-owner rule does not. A
removal it refuses keeps that membership, is logged and reported, and the other changes still apply.
Groups that no mapping names are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db import IntegrityError
from django.db.models import Q

from iam_portal.access.resolver import IDENTITY_PROVIDER
from iam_portal.access.services import ActionRefused
from iam_portal.audit.models import Source
from iam_portal.audit.services import audit_context
from iam_portal.identities.models import Group, GroupMembership, User
from iam_portal.identities.services import group_member_remove, group_members_add
from iam_portal.signin import events
from iam_portal.signin.config import GROUP_TARGET


@dataclass
class SyncResult:
    added: list[Group] = field(default_factory=list)
    removed: list[Group] = field(default_factory=list)
    kept: list[tuple[Group, str]] = field(default_factory=list)  # removals refused, with the reason


def claim_values(claims: dict, claim: str) -> set[str] | None:
    """The group names the claim lists; None when the provider did not send the claim at all."""
    if claim not in claims:
        return None
    value = claims[claim]
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return {v for v in values if isinstance(v, str)}


def mapped_groups(targets: set[str]) -> dict[str, Group]:
    """ "<company>/<group>" → Group, in one query; targets that name no group are left out."""
    wanted = {}
    for target in targets:
        slug, name = GROUP_TARGET.fullmatch(target).groups()
        wanted[target] = (slug.lower(), name.strip().casefold())
    if not wanted:
        return {}
    query = reduce(or_, (Q(company__slug__iexact=slug, name__iexact=name) for slug, name in wanted.values()))
    found = {
        (g.company.slug.lower(), g.name.casefold()): g
        for g in Group.objects.select_related("company").filter(query)
    }
    return {target: found[key] for target, key in wanted.items() if key in found}


def memberships_sync(*, user: User, provider: dict, claims: dict) -> SyncResult | None:
    """Apply the provider's group claim to `user`'s memberships of the mapped groups."""
    sync = provider.get("group_sync")
    if not sync:
        return None
    values = claim_values(claims, sync["claim"])
    if values is None:
        # A missing claim (scope not granted, mapper removed) must not empty every mapped group.
        events.group_sync_misconfigured(
            provider_id=provider["id"],
            problem=f'no "{sync["claim"]}" claim for {user.email}; nothing changed',
        )
        return None
    mapping = sync["groups"]
    targets = {t for ts in mapping.values() for t in ts}
    wanted = {t for value in values for t in mapping.get(value, ())}
    groups = mapped_groups(targets)
    for missing in sorted(targets - set(groups)):
        events.group_sync_misconfigured(provider_id=provider["id"], problem=f"no portal group {missing}")
    member_of = set(
        GroupMembership.objects.filter(user=user, group__in=list(groups.values())).values_list(
            "group_id", flat=True
        )
    )
    # By group, not by target text: "acme/Devs" and "acme/devs" are one group.
    wanted_ids = {groups[t].pk for t in wanted if t in groups}
    result = SyncResult()
    with audit_context(source=Source.SSO):  # the audit log says "via identity provider"
        for group in sorted(
            {g.pk: g for g in groups.values()}.values(), key=lambda g: (g.company.slug, g.name)
        ):
            if group.pk in wanted_ids and group.pk not in member_of:
                _add(user, group, provider["id"], result)
            elif group.pk not in wanted_ids and group.pk in member_of:
                _remove(user, group, provider["id"], result)
    return result


def _add(user: User, group: Group, provider_id: str, result: SyncResult) -> None:
    try:
        added = group_members_add(actor=IDENTITY_PROVIDER, group=group, emails=[user.email])
    except IntegrityError:  # a concurrent sign-in of the same person added it first
        return
    if added:
        result.added.append(group)
        events.group_member_added_by_provider(user, group, provider_id=provider_id)


def _remove(user: User, group: Group, provider_id: str, result: SyncResult) -> None:
    try:
        group_member_remove(actor=IDENTITY_PROVIDER, group=group, user=user)
    except ActionRefused as refusal:
        if not GroupMembership.objects.filter(group=group, user=user).exists():
            return  # a concurrent sign-in removed it first
        result.kept.append((group, str(refusal)))
        events.group_sync_refused(user, group, provider_id=provider_id, reason=str(refusal))
        return
    result.removed.append(group)
    events.group_member_removed_by_provider(user, group, provider_id=provider_id)
