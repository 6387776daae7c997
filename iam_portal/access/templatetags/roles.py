from django import template

from iam_portal.access import catalogue

register = template.Library()


@register.filter
def role_label(role_id: str | None) -> str:
    """company-owner → Company Owner; empty for no role."""
    return catalogue.role_label(role_id)
