from django.db import models


class UsedAssertion(models.Model):
    """A client assertion (RFC 7523) already exchanged for a token: its `jti` cannot be used again while
    the assertion is valid. The unique constraint makes two workers racing on one replay fail the second."""

    client_id = models.CharField(max_length=64)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(help_text="The assertion's exp; the row may go once it has passed.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "jti"], name="assertion_jti_single_use")]
        indexes = [models.Index(fields=["expires_at"], name="assertion_expires_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.jti}"


class FailedAuthCounter(models.Model):
    """Failed client authentications at the token endpoint in the current window, for one client id or one
    address. Kept in the database so every worker and container counts together."""

    key = models.CharField(max_length=120, unique=True, help_text="client:<client id> or addr:<address>")
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="failed_auth_window_idx")]

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
