"""Archive anchors, and the one sanctioned removal of audit events.

``manage.py audit_archive`` moves the oldest events to a file and deletes them. On
PostgreSQL the append-only trigger still refuses every UPDATE, and every DELETE but one:
a row already covered by a recorded anchor (``seq <= max(through_seq)``), deleted in a
transaction that declared itself an archiving run (``SET LOCAL clinic.audit_archiving =
'on'``). The setting is a guard against accidents, not against a database superuser (who
can disable any trigger): against those the hash chain and its anchors are the check.
Anchors themselves are append-only.
"""

from typing import Any

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('clinic.audit_archiving', true), '') = 'on' THEN
        IF OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM audit_auditarchive) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION audit_archive_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditarchive is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_archive_append_only
    BEFORE UPDATE OR DELETE ON audit_auditarchive
    FOR EACH ROW EXECUTE FUNCTION audit_archive_reject_change();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS audit_archive_append_only ON audit_auditarchive;
DROP FUNCTION IF EXISTS audit_archive_reject_change();
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_historicalpatient_external_id")]

    operations = [
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("archived_at", models.DateTimeField()),
                ("cutoff", models.DateTimeField()),
                ("from_seq", models.BigIntegerField()),
                ("through_seq", models.BigIntegerField(unique=True)),
                ("event_count", models.PositiveBigIntegerField()),
                ("prev_hash", models.CharField(max_length=64)),
                ("last_hash", models.CharField(max_length=64, unique=True)),
                ("file_name", models.CharField(max_length=255)),
                ("file_sha256", models.CharField(max_length=64)),
            ],
            options={"ordering": ["-through_seq"]},
        ),
        migrations.RunPython(forward, backward),
    ]
