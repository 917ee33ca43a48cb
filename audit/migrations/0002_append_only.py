"""The chain head's row, and append-only enforcement in the database.

On PostgreSQL a trigger rejects every UPDATE and DELETE on ``audit_auditevent`` (whoever
issues it: the ORM, raw SQL or a console), and a GIN index serves "which events listed
this patient" (``returned_ids @> '["<id>"]'``). SQLite has no equivalent worth the name
(anyone who can write the file can edit it); there the model refuses and the hash chain
detects what happened anyway.
"""

from typing import Any

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE INDEX audit_returned_ids_gin ON audit_auditevent USING gin (returned_ids jsonb_path_ops);
"""
BACKWARD = """
DROP INDEX IF EXISTS audit_returned_ids_gin;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_reject_change();
"""


def forward(apps: Any, schema_editor: Any) -> None:
    apps.get_model("audit", "AuditChainHead").objects.get_or_create(pk=1)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_trail_and_history")]

    operations = [migrations.RunPython(forward, backward)]
