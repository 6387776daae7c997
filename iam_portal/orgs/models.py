from enum import StrEnum

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models


class Level(StrEnum):
    """Where a role can be bound: the three levels of the resource hierarchy, top first."""

    COMPANY = "company"
    PROJECT = "project"
    ENVIRONMENT = "environment"


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    "Use lowercase letters, digits and dashes (not at either end), at most 63 characters.",
)


class Company(models.Model):
    slug = models.CharField(
        max_length=63, unique=True, validators=[slug_validator], help_text="Used in URLs."
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    level = Level.COMPANY

    def __str__(self) -> str:
        return self.name

    @property
    def company(self) -> "Company":
        return self

    @property
    def company_id(self) -> int:
        return self.pk

    @property
    def path(self) -> str:
        """The id used by the CLI, the API and explanations: acme, acme/webshop, acme/webshop/production."""
        return self.slug

    def ancestor(self, level: Level) -> "Company":
        return self


class Project(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="projects")
    slug = models.CharField(max_length=63, validators=[slug_validator], help_text="Unique in its company.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.ForeignKey(
        "ProjectTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "slug"], name="project_slug_unique_in_company")
        ]

    level = Level.PROJECT

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        return f"{self.company.slug}/{self.slug}"

    def ancestor(self, level: Level) -> "Company | Project":
        return self.company if level == Level.COMPANY else self


class Environment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    env_id = models.CharField(
        "environment id", max_length=63, validators=[slug_validator], help_text="e.g. production, staging."
    )
    name = models.CharField(max_length=200)
    is_production = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order in which environments are listed."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "env_id"]
        constraints = [models.UniqueConstraint(fields=["project", "env_id"], name="env_id_unique_in_project")]

    level = Level.ENVIRONMENT

    def __str__(self) -> str:
        return self.name

    @property
    def company(self) -> Company:
        return self.project.company

    @property
    def company_id(self) -> int:
        return self.project.company_id

    @property
    def path(self) -> str:
        return f"{self.project.path}/{self.env_id}"

    def ancestor(self, level: Level) -> "Company | Project | Environment":
        """This environment, its project or its company (load with select_related("project__company"))."""
        if level == Level.ENVIRONMENT:
            return self
        return self.project.ancestor(level)


def company_or_console(related_name: str, help_text: str) -> models.ForeignKey:
    """The company an object belongs to, or none for one of the whole Console (a public template, a global
    toggle, a root service account); it goes with its company."""
    return models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name=related_name,
        help_text=help_text,
    )


def unique_in_company_or_console(fields: list[str], *, name: str, console_name: str) -> list:
    """`fields` (one of them "company") unique in each company and among the rows of the whole Console: the
    database never finds two empty companies equal, so those rows need a constraint of their own."""
    return [
        models.UniqueConstraint(fields=fields, name=name),
        models.UniqueConstraint(
            fields=[f for f in fields if f != "company"],
            condition=models.Q(company__isnull=True),
            name=console_name,
        ),
    ]


class ProjectTemplate(models.Model):
    """A blueprint for new projects: public for every company, or private to one company."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    company = company_or_console("templates", "Leave empty for a public template every company can use.")
    repository_url = models.URLField(blank=True)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = unique_in_company_or_console(
            ["company", "name"],
            name="template_name_unique_in_company",
            console_name="public_template_name_unique",
        )

    def __str__(self) -> str:
        return self.name


class FeatureToggle(models.Model):
    """A Console feature switched on or off globally, optionally overridden for one company."""

    key = models.CharField(max_length=100, validators=[RegexValidator(r"^[a-z0-9][a-z0-9_.-]*$")])
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=False)
    company = company_or_console("feature_toggles", "Leave empty for the global value.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["key"]
        constraints = unique_in_company_or_console(
            ["key", "company"], name="toggle_unique_per_company", console_name="toggle_unique_global"
        )

    def __str__(self) -> str:
        return self.key if self.company_id is None else f"{self.key} ({self.company})"
