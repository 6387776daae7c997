import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from iam_portal.identities.names import NAME_MAX_LENGTH, name_key
from iam_portal.orgs.models import company_or_console


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A global Console account. People sign in with their email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the Console root admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    root_permissions = models.JSONField(
        default=list,
        blank=True,
        help_text="Console root permission keys held by this staff member (super users hold them all).",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        # The user tables' sort key (the name, or the email when there is no name) is indexed by migration
        # identities.0004 for each database: on PostgreSQL the index carries the "C" collation the tables use.

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.email.strip().lower()

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class NameKeyField(models.CharField):
    """The comparison key of the model's `name` (`names.name_key`), kept in step with it on every write,
    bulk_create included, so that the unique constraints compare exactly what the services compare."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3 * NAME_MAX_LENGTH)  # case folding can lengthen a name
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = name_key(model_instance.name)
        setattr(model_instance, self.attname, value)
        return value


class Group(models.Model):
    """A set of users of one company that share the same roles."""

    company = models.ForeignKey("orgs.Company", on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    name_key = NameKeyField()
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="GroupMembership",
        through_fields=("group", "user"),
        related_name="company_groups",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "company group"
        constraints = [
            models.UniqueConstraint("company", Lower("name"), name="group_name_unique_in_company"),
            models.UniqueConstraint(fields=["company", "name_key"], name="group_name_key_unique_in_company"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "group"], name="membership_unique")]
        indexes = [models.Index(fields=["group", "user"], name="membership_group_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


def hash_secret(secret: str) -> str:
    """Client secrets are long random strings, so one SHA-256 is safe and keeps the token check cheap."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_client_id() -> str:
    return secrets.token_hex(16)


class ServiceAccount(models.Model):
    """A machine identity of one company, or of the Console root when `company` is empty."""

    class AuthMethod(models.TextChoices):
        CLIENT_SECRET_BASIC = "client_secret_basic", "Client Secret Basic"
        PRIVATE_KEY_JWT = "private_key_jwt", "Private Key JWT"

    company = company_or_console(
        "service_accounts",
        "Empty for a root service account, which holds root permission keys instead of roles.",
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    name_key = NameKeyField()
    client_id = models.CharField(max_length=64, unique=True, default=new_client_id, editable=False)
    auth_method = models.CharField(
        "authentication method",
        max_length=32,
        choices=AuthMethod.choices,
        default=AuthMethod.CLIENT_SECRET_BASIC,
    )
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    public_key = models.JSONField(null=True, blank=True, help_text="RSA public key as a JWK.")
    key_id = models.CharField("key id", max_length=200, blank=True)
    root_permissions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("company", Lower("name"), name="sa_name_unique_in_company"),
            models.UniqueConstraint(
                Lower("name"), condition=models.Q(company__isnull=True), name="root_sa_name_unique"
            ),
            models.UniqueConstraint(fields=["company", "name_key"], name="sa_name_key_unique_in_company"),
            models.UniqueConstraint(
                fields=["name_key"], condition=models.Q(company__isnull=True), name="root_sa_name_key_unique"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(auth_method="client_secret_basic", public_key__isnull=True)
                    | models.Q(auth_method="private_key_jwt", public_key__isnull=False, secret_hash="")
                ),
                name="sa_credentials_match_method",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_root(self) -> bool:
        return self.company_id is None

    def issue_secret(self) -> str:
        """A new random client secret: only its digest is kept (unsaved); the caller shows it once."""
        secret = secrets.token_urlsafe(32)
        self.secret_hash = hash_secret(secret)
        return secret

    def check_secret(self, secret: str) -> bool:
        return bool(self.secret_hash) and secrets.compare_digest(self.secret_hash, hash_secret(secret))
