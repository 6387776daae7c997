from django.db import migrations

# The key the user tables sort by: the name, or the email when there is no name, in lower case.
SORT_KEY = "lower(coalesce(nullif(full_name, ''), email))"


def create_sort_index(apps, schema_editor):
    # PostgreSQL: the tables compare this key with the "C" collation (see pagination.sort_key), and an
    # index is only used for the collation it was built with. SQLite compares text byte by byte already.
    collation = ' COLLATE "C"' if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX user_display_sort_idx ON identities_user (({SORT_KEY}{collation}), id)"
    )


def drop_sort_index(apps, schema_editor):
    schema_editor.execute("DROP INDEX user_display_sort_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0003_user_display_sort_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="user", name="user_display_sort_idx"),
        migrations.RunPython(create_sort_index, drop_sort_index),
    ]
