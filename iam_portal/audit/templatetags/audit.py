"""{{ event|sentence }}, {% for what, before, after in event|changes %} and the identity words of the audit
log pages."""

from django import template

from iam_portal.audit import wording

register = template.Library()


@register.filter
def sentence(event) -> str:
    return wording.event_sentence(event)


@register.filter
def changes(event) -> list[tuple[str, str, str]]:
    return wording.event_changes(event)


@register.filter
def actor_token(event) -> str:
    """The actor as the filters name it ("user:12", "command"), "" when it is no identity of a company."""
    kind = "user" if event.actor_kind == "superuser" else event.actor_kind
    return f"{kind}:{event.actor_id}" if event.actor_id is not None else kind


@register.filter
def kind_words(kind: str) -> str:
    """ "service-account" → "service account"."""
    return kind.replace("-", " ")
