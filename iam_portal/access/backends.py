"""Sign-in and Django admin permissions.

People sign in with their email address and password (ModelBackend does that through
`UserManager.get_by_natural_key`, and refuses inactive accounts).

Super users hold every Django permission. A staff member who is not a super user gets Django model
permissions **only** from the Console root keys listed on their account (`User.root_permissions`),
through `ROOT_KEY_MODEL_PERMISSIONS` below. Django's own per-user and auth-group permissions are
ignored, so the root keys are the single place that says what a staff member may do in the admin.
"""

from django.contrib.auth.backends import ModelBackend

from iam_portal.access.catalogue import ROOT_PERMISSIONS

# Every model the Console root admin manages, as "app_label.model_name".
CONSOLE_MODELS: tuple[str, ...] = (
    "orgs.company",
    "orgs.project",
    "orgs.environment",
    "orgs.projecttemplate",
    "orgs.featuretoggle",
    "identities.user",
    "identities.group",
    "identities.groupmembership",
    "identities.serviceaccount",
    "access.rolebinding",
)


def _perms(actions: str, *models: str) -> frozenset[str]:
    """_perms("add change", "orgs.project") → {"orgs.add_project", "orgs.change_project"}."""
    result = set()
    for model in models:
        app_label, model_name = model.split(".")
        result.update(f"{app_label}.{action}_{model_name}" for action in actions.split())
    return frozenset(result)


# Console root key → the Django model permissions it gives a staff member in the admin.
ROOT_KEY_MODEL_PERMISSIONS: dict[str, frozenset[str]] = {
    "console.root.view": _perms("view", *CONSOLE_MODELS),
    "console.root.company.create": _perms("add", "orgs.company"),
    "console.root.company.delete": _perms("delete", "orgs.company"),
    "console.root.project.create": _perms("add", "orgs.project", "orgs.environment"),
    "console.root.project.details.update": _perms("change", "orgs.project", "orgs.environment"),
    "console.root.project.delete": _perms("delete", "orgs.project", "orgs.environment"),
    "console.root.user.manage": _perms("add change delete", "identities.user"),
    "console.root.user.bind": _perms(
        "add change delete", "access.rolebinding", "identities.group", "identities.groupmembership"
    ),
    "console.root.serviceaccount.manage": _perms("add change delete", "identities.serviceaccount"),
    "console.root.templates.manage": _perms("view add change delete", "orgs.projecttemplate"),
    "console.root.features.manage": _perms("view add change delete", "orgs.featuretoggle"),
    # Marketplace resources are not part of this portal.
    "marketplace.root.manage": frozenset(),
}

assert set(ROOT_KEY_MODEL_PERMISSIONS) == set(ROOT_PERMISSIONS), "every root key needs a mapping"


def model_permissions_for_root_keys(keys) -> set[str]:
    """The Django permissions ("app_label.codename") that a list of root keys gives; unknown keys give none."""
    perms: set[str] = set()
    for key in keys or ():
        perms |= ROOT_KEY_MODEL_PERMISSIONS.get(key, frozenset())
    return perms


class RootKeyBackend(ModelBackend):
    """Email + password sign-in; admin permissions of non-super-user staff come from Console root keys."""

    def get_user_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_user_permissions(user_obj, obj)
        if not user_obj.is_staff:
            return set()
        return model_permissions_for_root_keys(user_obj.root_permissions)

    def get_group_permissions(self, user_obj, obj=None):
        # Django auth groups grant nothing here (company groups are a different thing); super users
        # already get every permission from get_user_permissions.
        return set()
