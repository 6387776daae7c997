"""Admin: who has enrolled a second factor (a column and a filter on users), and the sign-in records super
users need (provider links, authenticators, lockouts). allauth's provider-app table is hidden: providers
are configured in the environment (OIDC_PROVIDERS), never in the database."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.db.models import Exists, OuterRef

from iam_portal.identities.admin import UserAdmin as PortalUserAdmin
from iam_portal.identities.models import User

for model in (SocialApp, SocialToken, EmailAddress, Authenticator):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Read and delete only: deleting a person's authenticator app resets their second factor (lost phone).
    The secret itself is never shown."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    list_select_related = ("user",)
    search_fields = ("user__email",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TwoFactorFilter(admin.SimpleListFilter):
    title = "two-factor"
    parameter_name = "two_factor"

    def lookups(self, request, model_admin):
        return (("yes", "Enrolled"), ("no", "Not enrolled"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(_two_factor=self.value() == "yes")
        return queryset


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(PortalUserAdmin):
    list_display = (*PortalUserAdmin.list_display, "two_factor")
    list_filter = (*PortalUserAdmin.list_filter, TwoFactorFilter)

    def get_queryset(self, request):
        totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
        return super().get_queryset(request).annotate(_two_factor=Exists(totp))

    @admin.display(boolean=True, description="Two-factor", ordering="_two_factor")
    def two_factor(self, obj) -> bool:
        return obj._two_factor
