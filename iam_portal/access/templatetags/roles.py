"""How templates show roles: their label, the one role badge, and what a removal takes away."""

from django import template
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timeuntil

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from iam_portal.orgs.templatetags.ui import when

register = template.Library()


@register.filter
def role_label(role_id: str | None) -> str:
    """company-owner → Company Owner; empty for no role."""
    return catalogue.role_label(role_id)


@register.simple_tag
def role_ends(until, then: str | None = None, *, show_then: bool = True) -> str:
    """When a time-limited role ends and what holds after it: "until <time>4 Dec 2026, 17:00</time> (in 3
    days) · then Developer" ("· then no role" when nothing does). Nothing for a lasting role."""
    if not until:
        return ""
    text = format_html("until {} (in {})", when(until), timeuntil(until, depth=1))
    if show_then:
        text = format_html("{} · then {}", text, catalogue.role_label(then) or "no role")
    return format_html('<span class="role-ends">{}</span>', text)


@register.simple_tag
def grant_source(grant, *, link_groups: bool = False) -> str:
    """How a role reaches an identity on a resource (a resolver Grant), after its badge: "direct" or "via
    group G" (G linked to its page when `link_groups`), "inherited from the company" or "… from the project
    P" when bound above, and "until …" when it ends."""
    if grant.group_name is None:
        text = "direct"
    elif link_groups:
        url = reverse("group_detail", args=[grant.target.company.slug, grant.group_id])
        text = format_html('via group <a href="{}">{}</a>', url, grant.group_name)
    else:
        text = format_html("via group {}", grant.group_name)
    if grant.inherited:
        above = "the project " + grant.resource.name if grant.level == Level.PROJECT else f"the {grant.level}"
        text = format_html("{}, inherited from {}", text, above)
    if grant.until:
        text = format_html("{}, {}", text, role_ends(grant.until, show_then=False))
    return text


@register.simple_tag
def role_badge(
    role: str | None,
    *,
    none: str = "",
    none_label: str = "",
    source: str = "",
    title: str = "",
    until=None,
    then: str | None = None,
):
    """The one way a role is shown: <span class="role role-developer">Developer</span>.

    `none` is what stands in for no role ("—", "No direct role"; nothing by default), with `none_label` as its
    accessible name where the text alone says too little. `source` marks an inherited role: the badge reads
    "Developer (company)", is drawn dashed, and `title` says where it comes from. `until` (and `then`, the
    role after it) follow a time-limited role: `role_ends`."""
    if role and until:
        badge = role_badge(role, source=source, title=title)
        return format_html("{} {}", badge, role_ends(until, then))
    if not role:
        if none_label:
            # A <span> has no role to name: show the short text, let screen readers read the long one.
            return format_html(
                '<span class="role-none"><span aria-hidden="true">{}</span><span class="visually-hidden">{}</span></span>',
                none,
                none_label,
            )
        return format_html('<span class="role-none">{}</span>', none) if none else ""
    label = catalogue.role_label(role)
    if source:
        return format_html(
            '<span class="role role-{} role-inherited" title="{}">{} ({})</span>', role, title, label, source
        )
    return format_html('<span class="role role-{}">{}</span>', role, label)


@register.simple_tag
def role_cell(
    role: str | None,
    *,
    until=None,
    then: str | None = None,
    source: str = "",
    title: str = "",
    inherited=(),
    inherited_title: str = "",
    none: str = "",
    none_label: str = "",
) -> str:
    """A table cell of roles, in one tag (a Project IAM row has six): the identity's own role (`role`, with
    its end, marked with `source` / `title` when it is itself inherited), the roles reaching it from elsewhere
    (`inherited`: each with role, source, until and then; drawn dashed with `inherited_title`), or `none`
    when there is neither."""
    own = role_badge(role, until=until, then=then, source=source, title=title) if role else ""
    others = [
        role_badge(i.role, source=i.source, title=inherited_title, until=i.until, then=i.then)
        for i in inherited
    ]
    if not own and not others:
        return role_badge(None, none=none, none_label=none_label)
    return format_html("{} {}", own, mark_safe("".join(others)))  # noqa: S308 (each badge is escaped)


@register.simple_tag
def binding_badge(binding, *, none: str = "") -> str:
    """A RoleBinding's role as it is now: the running role with its end, or (once ended, before
    `expire_grants` tidies it) the role it returned to."""
    now = timezone.now()
    if binding.until is not None and binding.until > now:
        return role_badge(binding.role, until=binding.until, then=binding.role_after)
    return role_badge(binding.role_at(now), none=none)


def role_allows_context(role: str | None, level) -> dict:
    """What `_role_allows.html` shows for a role picker's choice (no role, or one not valid there: nothing)."""
    if not role or not catalogue.is_role_valid_for(role, level):
        return {"label": "", "groups": []}
    return {"label": catalogue.role_label(role), "groups": catalogue.role_allows(role, level)}


@register.inclusion_tag("access/_role_allows.html")
def role_allows(field):
    """Under a role picker (forms.role_field): everything its chosen role allows there."""
    value = field.value()
    if not value and field.field.required:
        value = field.field.choices[0][0]  # what the browser shows chosen
    return role_allows_context(value if isinstance(value, str) else None, field.field.role_level)


@register.inclusion_tag("_consequences.html", takes_context=True)
def consequences(context, *, bindings=(), groups=(), losing=(), losing_count=None, lost_roles=()):
    """The one list of what a removal or a deletion takes away: the roles deleted (role and where), the groups
    left, who loses access to the company, and the project and environment roles that go with that access
    (`lost_roles`, bindings with their user). `losing` may be cut short: `losing_count` is how many in all.
    Each part takes a list, or a single object for a dialog about one identity."""
    losing = _listed(losing)
    total = len(losing) if losing_count is None else losing_count
    return {
        "company": context.get("company"),
        "bindings": _listed(bindings),
        "groups": _listed(groups),
        "losing": losing,
        "losing_count": total,
        "losing_more": total - len(losing),
        "lost_roles": _listed(lost_roles),
    }


def _listed(value) -> list:
    if isinstance(value, Model):
        return [value]
    return list(value or ())
