import django.db.models.deletion
from django.db import migrations, models

# Whatever writes a user's company binding or a group membership (a service, the admin, a cascade, a bulk
# insert, COPY) raises the company's version in `access_companyusercount`, in the same transaction, so the
# kept user count (`access.counts`) is never taken for current after a change. Triggers, because only the
# database sees every write. PostgreSQL: one statement-level trigger per table and event, over the rows the
# statement changed (a COPY of 500,000 memberships raises each company's version once); locks taken in
# company order. SQLite: row-level triggers.
COUNT = "access_companyusercount"

PG_RAISE = f"""
    INSERT INTO {COUNT} (company_id, version)
    SELECT DISTINCT company_id, 1 FROM ({{rows}}) AS touched
     WHERE company_id IS NOT NULL AND EXISTS (SELECT 1 FROM orgs_company c WHERE c.id = company_id)
     ORDER BY company_id
    ON CONFLICT (company_id) DO UPDATE SET version = {COUNT}.version + 1;
"""
PG_BINDING_ROWS = "SELECT company_id FROM {table} WHERE user_id IS NOT NULL"
PG_MEMBERSHIP_ROWS = "SELECT g.company_id FROM {table} m JOIN identities_group g ON g.id = m.group_id"

PG_TABLES = {
    "access_rolebinding": ("binding", PG_BINDING_ROWS),
    "identities_groupmembership": ("membership", PG_MEMBERSHIP_ROWS),
}


def _pg_sql():
    create, drop = [], []
    for table, (name, rows) in PG_TABLES.items():
        one = PG_RAISE.format(rows=rows.format(table="changed"))
        both = PG_RAISE.format(
            rows=f"{rows.format(table='old_rows')} UNION ALL {rows.format(table='new_rows')}"
        )
        for function, body in ((f"{COUNT}_{name}_changed", one), (f"{COUNT}_{name}_updated", both)):
            create.append(
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body} RETURN NULL; END $$;"
            )
            drop.append(f"DROP FUNCTION IF EXISTS {function}() CASCADE;")
        for event, referencing, function in (
            ("INSERT", "NEW TABLE AS changed", "changed"),
            ("DELETE", "OLD TABLE AS changed", "changed"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "updated"),
        ):
            create.append(
                f"CREATE TRIGGER {name}_count_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {COUNT}_{name}_{function}();"
            )
    return create, drop


# A row for a company that no longer exists is never written: deleting every table's rows one table after
# another (Django's flush between tests) would otherwise leave one behind.
SQLITE_RAISE = f"""
    INSERT OR IGNORE INTO {COUNT} (company_id, version) SELECT {{company}}, 0
        WHERE {{when}} AND EXISTS (SELECT 1 FROM orgs_company WHERE id = {{company}});
    UPDATE {COUNT} SET version = version + 1 WHERE company_id = {{company}} AND {{when}};
"""


def _sqlite_sql():
    create, drop = [], []
    for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
        binding = "".join(
            SQLITE_RAISE.format(company=f"{row}.company_id", when=f"{row}.company_id IS NOT NULL AND {row}.user_id IS NOT NULL")
            for row in rows
        )
        membership = "".join(
            SQLITE_RAISE.format(
                company=f"(SELECT company_id FROM identities_group WHERE id = {row}.group_id)", when="1 = 1"
            )
            for row in rows
        )
        for table, name, body in (
            ("access_rolebinding", "binding", binding),
            ("identities_groupmembership", "membership", membership),
        ):
            create.append(f"CREATE TRIGGER {name}_count_{event.lower()} AFTER {event} ON {table} BEGIN {body} END;")
            drop.append(f"DROP TRIGGER IF EXISTS {name}_count_{event.lower()};")
    return create, drop


def _statements(vendor: str, which: int):
    if vendor == "postgresql":
        return _pg_sql()[which]
    if vendor == "sqlite":
        return _sqlite_sql()[which]
    return []


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, 0):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, 1):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0003_time_limited_roles'),
        ('identities', '0006_search_trigram_indexes'),
        ('orgs', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='CompanyUserCount',
            fields=[
                ('company', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='orgs.company')),
                ('version', models.BigIntegerField(default=0)),
                ('counted_version', models.BigIntegerField(null=True)),
                ('users', models.IntegerField(null=True)),
                ('counted_at', models.DateTimeField(null=True)),
                ('fresh_until', models.DateTimeField(null=True)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
