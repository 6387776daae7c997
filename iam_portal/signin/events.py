"""Sign-in events: one function per place where something worth recording happens.

Each writes one log line on the "iam_portal.signin" logger; sign-ins (succeeded, failed, locked out) also go
to the audit log, in the Console's own chain (they belong to no company). Group changes made by the
identity provider are recorded by the services themselves. Nothing secret is logged or recorded (no
passwords, codes or tokens); emails are, because they identify the account.
"""

import logging

from iam_portal.audit.models import Action, Outcome
from iam_portal.audit.services import event_record
from iam_portal.identities.models import User

log = logging.getLogger("iam_portal.signin")


def _account(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first() if email and "\x00" not in email else None


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "-") if request is not None else "-"


def signin_succeeded(request, user, *, method: str) -> None:
    """method: "password" or "oidc:<provider id>"."""
    log.info("sign-in succeeded: %s by %s from %s", user.email, method, _client(request))
    event_record(actor=user, action=Action.SIGNIN_SUCCEEDED, subject=user, after={"method": method})


def signin_refused(request, *, method: str, reason: str, email: str = "", detail: str = "") -> None:
    """A sign-in that was refused after the person (or their provider) answered; reason is a short code."""
    log.warning(
        "sign-in refused: %s by %s from %s: %s%s",
        email or "(unknown account)",
        method,
        _client(request),
        reason,
        f" ({detail})" if detail else "",
    )
    account = _account(email)
    event_record(
        actor=None,
        action=Action.SIGNIN_FAILED,
        subject=account,
        after={"method": method, "reason": reason, "email": email[:254]},
        outcome=Outcome.REFUSED,
        message=detail[:500],
    )


def signin_locked_out(request, *, username: str) -> None:
    log.warning("sign-in locked out: %s from %s (too many wrong passwords)", username, _client(request))
    event_record(
        actor=None,
        action=Action.SIGNIN_LOCKED_OUT,
        subject=_account(username),
        after={"email": username[:254]},
        outcome=Outcome.REFUSED,
        message="Too many wrong passwords.",
    )


def signed_out(request, user, *, provider_logout: bool) -> None:
    log.info("signed out: %s%s", user.email, " (and from the identity provider)" if provider_logout else "")


def account_created_by_provider(user, *, provider_id: str) -> None:
    log.info("account created just in time: %s via identity provider %s", user.email, provider_id)


def group_member_added_by_provider(user, group, *, provider_id: str) -> None:
    log.info(
        "group sync: added %s to %s/%s via identity provider %s",
        user.email,
        group.company.slug,
        group.name,
        provider_id,
    )


def group_member_removed_by_provider(user, group, *, provider_id: str) -> None:
    log.info(
        "group sync: removed %s from %s/%s via identity provider %s",
        user.email,
        group.company.slug,
        group.name,
        provider_id,
    )


def group_sync_refused(user, group, *, provider_id: str, reason: str) -> None:
    log.warning(
        "group sync: kept %s in %s/%s (identity provider %s no longer lists it): %s",
        user.email,
        group.company.slug,
        group.name,
        provider_id,
        reason,
    )


def group_sync_misconfigured(*, provider_id: str, problem: str) -> None:
    log.warning("group sync for identity provider %s: %s", provider_id, problem)
