from django.db import migrations

# The IAM, Groups and Service accounts tables walk a company's groups and service accounts by name (lower
# case, the "C" collation on PostgreSQL: pagination.sort_key). Without an index on that key PostgreSQL read
# and sorted all 10,000 groups of the 100k company for each 50-row page (25 ms); with it the page is an index
# walk of 51 rows. SQLite compares text byte by byte already.
TABLES = {"group_name_sort_idx": "identities_group", "sa_name_sort_idx": "identities_serviceaccount"}


def create_indexes(apps, schema_editor):
    collation = ' COLLATE "C"' if schema_editor.connection.vendor == "postgresql" else ""
    for name, table in TABLES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON {table} (company_id, (lower(name){collation}), id)")


def drop_indexes(apps, schema_editor):
    for name in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0006_search_trigram_indexes"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
