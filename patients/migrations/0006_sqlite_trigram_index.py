"""SQLite: an FTS5 trigram index for typo-tolerant search (``patients.trigram``).

PostgreSQL serves the search from its GIN trigram index (0002); nothing changes there.
On SQLite this builds ``patients_search_trgm`` (FTS5, ``trigram`` tokenizer) over each
patient's padded document, ``patients_search_key`` (a stable integer key per patient, the
index's rowid) and the triggers that keep both in step with ``patients_patient``, then
indexes the patients already stored (``patients.search_index``). Skipped where SQLite
lacks the trigram tokenizer (before 3.34): search then scans the table, as before.

The triggers call ``trgm_document``, which Django registers on each of its SQLite
connections; a write to ``patients_patient`` from a bare ``sqlite3`` shell fails with
"no such function" rather than leaving the index stale.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from patients import search_index


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    search_index.ensure(schema_editor.connection)


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    search_index.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_name_index_with_id")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
