from django.db import migrations, models

import iam_portal.identities.models
from iam_portal.identities.names import name_key


def fill_keys(apps, schema_editor):
    for model_name in ("Group", "ServiceAccount"):
        model = apps.get_model("identities", model_name)
        rows = list(model.objects.only("pk", "name"))
        for row in rows:
            row.name_key = name_key(row.name)
        model.objects.bulk_update(rows, ["name_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0004_user_sort_index_per_database"),
    ]

    operations = [
        migrations.AddField(
            model_name="group",
            name="name_key",
            field=iam_portal.identities.models.NameKeyField(default="", editable=False, max_length=450),
        ),
        migrations.AddField(
            model_name="serviceaccount",
            name="name_key",
            field=iam_portal.identities.models.NameKeyField(default="", editable=False, max_length=450),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="group",
            constraint=models.UniqueConstraint(
                fields=("company", "name_key"), name="group_name_key_unique_in_company"
            ),
        ),
        migrations.AddConstraint(
            model_name="serviceaccount",
            constraint=models.UniqueConstraint(
                fields=("company", "name_key"), name="sa_name_key_unique_in_company"
            ),
        ),
        migrations.AddConstraint(
            model_name="serviceaccount",
            constraint=models.UniqueConstraint(
                condition=models.Q(("company__isnull", True)),
                fields=("name_key",),
                name="root_sa_name_key_unique",
            ),
        ),
    ]
