from django.contrib.auth.backends import ModelBackend


class RootKeyBackend(ModelBackend):
    """Email + password sign-in; admin permissions come from Console root keys (see admin issue)."""
