from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The tables' substring search (`access.subjects.search_q`, `icontains`) is, on PostgreSQL,
# `UPPER(column::text) LIKE UPPER('%text%')`; a trigram GIN index on that very expression answers it without
# reading every account. The Project IAM table searches users by the name it shows (`display`). SQLite keeps
# its plain scan: these indexes and the extension exist on PostgreSQL only, outside the model state.
INDEXES = {
    "user_full_name_trgm_idx": ("identities_user", "upper(full_name)"),
    "user_email_trgm_idx": ("identities_user", "upper(email)"),
    "user_display_trgm_idx": ("identities_user", "upper(coalesce(nullif(full_name, ''), email))"),
    "group_name_trgm_idx": ("identities_group", "upper(name)"),
    "sa_name_trgm_idx": ("identities_serviceaccount", "upper(name)"),
    "sa_client_id_trgm_idx": ("identities_serviceaccount", "upper(client_id)"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0005_name_keys"),
    ]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION pg_trgm on PostgreSQL; nothing elsewhere
        migrations.RunPython(create_indexes, drop_indexes),
    ]
