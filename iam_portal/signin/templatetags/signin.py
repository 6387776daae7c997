from django import template
from django.conf import settings

register = template.Library()


@register.filter
def described(field):
    """The field's widget, with aria-describedby naming its help text, its errors and the form's errors,
    and aria-invalid when it has errors (screen readers then read why)."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_help")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    if field.form.non_field_errors():
        ids.append("form-errors")
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors or field.form.non_field_errors():
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.simple_tag
def signin_options() -> dict:
    """What the sign-in pages offer: password sign-in for "everyone" or "superusers", and password reset."""
    return {"password": settings.PASSWORD_SIGNIN, "reset": settings.PASSWORD_RESET_ENABLED}


@register.simple_tag
def two_factor_required_for(user) -> bool:
    from iam_portal.signin.twofactor import two_factor_required

    return user.is_authenticated and two_factor_required(user)
