"""Who must use a second factor (settings.TWO_FACTOR_REQUIRED_FOR_STAFF) and who has one."""

from allauth.mfa.models import Authenticator
from django.conf import settings


def two_factor_required(user) -> bool:
    return bool(settings.TWO_FACTOR_REQUIRED_FOR_STAFF and (user.is_staff or user.is_superuser))


def has_authenticator_app(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
