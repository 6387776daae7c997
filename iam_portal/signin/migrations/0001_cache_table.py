"""The database cache table (settings.CACHES): allauth's rate-limit counters and used TOTP codes live there,
so every gunicorn worker sees the same counts. `createcachetable` skips a table that already exists."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
