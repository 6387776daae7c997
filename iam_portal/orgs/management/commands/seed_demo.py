"""Demo data: company Acme with the feature team of the Console's role-binding example, and more.

Idempotent: running it again leaves the same data (and resets the demo password).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST, MAINTAINER, PROJECT_ADMIN, REPORTER
from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group, GroupMembership, ServiceAccount, User, hash_secret
from iam_portal.orgs.demo import DEMO_PASSWORD
from iam_portal.orgs.models import Company, Environment, Project, ProjectTemplate

# A fixed demo RSA public key (the private half is not kept anywhere).
DEMO_JWK = {
    "kty": "RSA",
    "use": "sig",
    "alg": "RS256",
    "kid": "acme-deployer-2026",
    "n": (
        "wXzt8aqTNAshKg9h2iFSzfIFNZOx8IySU-Cuy2IkVfmtNE8dHtkCJ4clxQhtvjc6SxUGExmpaabTyJshE9HmSQaP9fcO-OX0ccN8"
        "kBozyGKb12vf0Ga2WIBuQcL_mJA9eTi4-xUXNK8jrVA5vXVW6T8v3ItAd03ag_xJ39aA-OZ-5JVMu0U3l7VnSoqqb9nQzYSy5J2"
        "MxZ4s5gwyOBAkxS6NnDyL9EtTh5FfXQ3-Rz7sKKD_y5_HQ4kT7e4xTBWu-iXw9mM5yv3qcRxVddeHcfwVJvMvTbDrZpe8HV6kH6"
        "7GO7IUg7xK_qBTMTkk4AwSMV8rAcN8TPCZNxIXXw_ubQ"
    ),
    "e": "AQAB",
}

FEATURE_TEAM = [
    # email, full name, project role on webshop, environment roles
    ("pm@acme.test", "Paula Manager", PROJECT_ADMIN, {}),
    ("lead@acme.test", "Luca Lead", PROJECT_ADMIN, {}),
    ("senior@acme.test", "Sara Senior", MAINTAINER, {}),
    ("junior1@acme.test", "Jun One", DEVELOPER, {"staging": MAINTAINER}),
    ("junior2@acme.test", "Jun Two", DEVELOPER, {"staging": MAINTAINER}),
    ("designer1@acme.test", "Dana Designer", REPORTER, {}),
    ("designer2@acme.test", "Dario Designer", REPORTER, {}),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo companies, projects, users, groups, service accounts and roles."

    @transaction.atomic
    def handle(self, *args, **options):
        acme, _ = Company.objects.update_or_create(slug="acme", defaults={"name": "Acme"})
        template, _ = ProjectTemplate.objects.get_or_create(
            name="Microservices starter", company=None, defaults={"description": "A public starter template."}
        )
        webshop, _ = Project.objects.update_or_create(
            company=acme,
            slug="webshop",
            defaults={"name": "Webshop", "description": "The public online shop.", "template": template},
        )
        environments = {}
        for position, (env_id, name, is_production) in enumerate(
            [("production", "Production", True), ("staging", "Staging", False)]
        ):
            environments[env_id], _ = Environment.objects.update_or_create(
                project=webshop,
                env_id=env_id,
                defaults={"name": name, "is_production": is_production, "position": position},
            )
        payments, _ = Project.objects.update_or_create(
            company=acme, slug="payments", defaults={"name": "Payments", "description": "Payment gateway."}
        )
        Environment.objects.update_or_create(
            project=payments, env_id="production", defaults={"name": "Production", "is_production": True}
        )

        admin = self._user("admin@acme.test", "Ada Admin", is_staff=True, is_superuser=True)
        owner = self._user("owner@acme.test", "Olivia Owner")
        self._bind(owner, COMPANY_OWNER, company=acme, created_by=admin)

        for email, full_name, project_role, env_roles in FEATURE_TEAM:
            user = self._user(email, full_name)
            self._bind(user, GUEST, company=acme, created_by=owner)
            self._bind(user, project_role, project=webshop, created_by=owner)
            for env_id, role in env_roles.items():
                self._bind(user, role, environment=environments[env_id], created_by=owner)

        developers, _ = Group.objects.get_or_create(
            company=acme, name="Acme Developers", defaults={"created_by": owner}
        )
        self._bind(developers, DEVELOPER, company=acme, created_by=owner)
        for email in ("junior1@acme.test", "junior2@acme.test"):
            GroupMembership.objects.get_or_create(
                group=developers, user=User.objects.get(email=email), defaults={"added_by": owner}
            )

        deployer = ServiceAccount.objects.filter(company=acme, name="ci-deployer").first()
        if deployer is None:
            deployer = ServiceAccount.objects.create(
                company=acme,
                name="ci-deployer",
                auth_method=ServiceAccount.AuthMethod.PRIVATE_KEY_JWT,
                public_key=DEMO_JWK,
                key_id=DEMO_JWK["kid"],
                created_by=owner,
            )
        self._bind(deployer, MAINTAINER, company=acme, created_by=owner)
        reporter = ServiceAccount.objects.filter(company=acme, name="metrics-reader").first()
        if reporter is None:
            # The demo secret is printed below so people can try the machine flow; real secrets are shown once.
            reporter = ServiceAccount.objects.create(
                company=acme,
                name="metrics-reader",
                client_id="demo-metrics-reader",
                auth_method=ServiceAccount.AuthMethod.CLIENT_SECRET_BASIC,
                secret_hash=hash_secret("demo-metrics-reader-secret"),
                created_by=owner,
            )
        self._bind(reporter, REPORTER, company=acme, created_by=owner)

        globex, _ = Company.objects.update_or_create(slug="globex", defaults={"name": "Globex"})
        research, _ = Project.objects.update_or_create(
            company=globex, slug="research", defaults={"name": "Research"}
        )
        Environment.objects.update_or_create(
            project=research, env_id="development", defaults={"name": "Development"}
        )
        globex_owner = self._user("owner@globex.test", "Gus Globex")
        self._bind(globex_owner, COMPANY_OWNER, company=globex, created_by=admin)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"Sign in as owner@acme.test (Company Owner of Acme) or admin@acme.test (super user, /admin/); "
            f"every demo account uses the password: {DEMO_PASSWORD}"
        )

    def _user(self, email, full_name, **flags):
        user, _ = User.objects.update_or_create(email=email, defaults={"full_name": full_name, **flags})
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        return user

    def _bind(self, subject, role, *, created_by, **resource):
        field = {User: "user", Group: "group", ServiceAccount: "service_account"}[type(subject)]
        RoleBinding.objects.update_or_create(
            **{field: subject}, **resource, defaults={"role": role, "created_by": created_by}
        )
