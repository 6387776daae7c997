import importlib

from django.db import migrations

# SQLite alters a table by rebuilding it (0005 added the rank columns to access_rolebinding), and dropping the
# old table drops its triggers with it: put back the triggers that keep the company user count honest
# (written by 0004). PostgreSQL altered the table in place and kept them. Any later migration that rebuilds
# access_rolebinding or identities_groupmembership on SQLite must do the same (test_kept_count checks).
count = importlib.import_module("iam_portal.access.migrations.0004_company_user_count")


def recreate_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    count.drop_triggers(apps, schema_editor)
    count.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0006_owner_index"),
    ]

    operations = [migrations.RunPython(recreate_triggers, migrations.RunPython.noop)]
