"""The audit trail: one append-only, hash-chained event per access to patient data.

``AuditEvent`` rows are never updated or deleted: the model and its queryset refuse, and
on PostgreSQL a trigger rejects ``UPDATE`` and ``DELETE`` (migration 0002). Each event
stores the SHA-256 of its own content and of the previous event (``prev_hash``), so an
edited or removed row breaks the chain; ``manage.py verify_audit`` finds the first break.
How the chain is serialised between concurrent writers is explained in ``audit.chain``.

Events never carry clinical content: identifiers (user, patient, resource), the action,
where the request came from and its outcome; the only free text is the caller's
``X-Access-Reason``.

Field-level change history (django-simple-history) of patients, doctors, appointments,
outcomes and note metadata is registered at the end of this module; the historical tables
belong to this app so that the audited apps' models stay untouched.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, TypeVar

from django.apps import apps as django_apps
from django.conf import settings
from django.db import models
from simple_history import register

GENESIS_HASH = "0" * 64


class Action(models.TextChoices):
    VIEW = "view"
    LIST = "list"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SIGN = "sign"
    AMEND = "amend"
    RETRACT = "retract"
    EXPORT = "export"
    IMPORT = "import"
    DOWNLOAD = "download"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    TOKEN_ISSUED = "token_issued"  # noqa: S105 (an action name)
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    PERMISSION_DENIED = "permission_denied"
    LOCKED_OUT = "locked_out"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


_M = TypeVar("_M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_M]):
    """Refuses bulk changes. The one sanctioned removal, archiving, deletes with its own
    statement (``audit.archive``), which the PostgreSQL trigger checks."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only.")


class AuditEventQuerySet(AppendOnlyQuerySet["AuditEvent"]):
    def for_patient(self, patient_id: uuid.UUID | str) -> AuditEventQuerySet:
        """Events about the patient, and events whose result listed them (searches)."""
        patient_id = uuid.UUID(str(patient_id))
        return self.filter(models.Q(patient_id=patient_id) | models.Q(pk__in=_returned(patient_id)))


def _returned(patient_id: uuid.UUID) -> Any:
    """Ids of the events whose ``returned_ids`` contain the patient (a GIN index on
    PostgreSQL, ``json_each`` on SQLite)."""
    from django.db import connection
    from django.db.models.expressions import RawSQL

    table = AuditEvent._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"SELECT id FROM {table} WHERE returned_ids @> %s::jsonb"  # noqa: S608  # nosec B608
        return RawSQL(sql, [f'["{patient_id}"]'])  # noqa: S611  # nosec B611 (parameters only)
    sql = (  # the table name is the model's
        f"SELECT e.id FROM {table} e, json_each(e.returned_ids) j "  # noqa: S608  # nosec B608
        "WHERE j.value = %s"
    )
    return RawSQL(sql, [str(patient_id)])  # noqa: S611  # nosec B611 (parameters only)


class AuditEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Position in the hash chain: gapless, assigned under the chain lock.
    seq = models.BigIntegerField(unique=True, editable=False)
    at = models.DateTimeField()
    # No database constraint: events outlive the users they name.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    resource_type = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True)
    returned_ids = models.JSONField(default=list, blank=True)
    # Imports and exports: how many rows moved.
    row_count = models.PositiveIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    # The response's status; null for a write recorded inside its transaction (the change
    # committed together with the event).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    # A read of a patient the user has no appointment with, allowed by a stated reason.
    break_glass = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["patient_id", "-seq"], name="audit_patient_idx"),
            models.Index(fields=["actor", "-seq"], name="audit_actor_idx"),
            models.Index(fields=["action", "-seq"], name="audit_action_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.resource_type} {self.resource_id}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only.")


class AuditArchive(models.Model):
    """An anchor: events ``from_seq``..``through_seq`` were moved to an archive file and
    deleted (``manage.py audit_archive``). ``last_hash`` is the hash of the last archived
    event, so the online chain continues from it; ``prev_hash`` is where the archived
    stretch itself starts (the previous anchor's ``last_hash``, or the genesis hash), so
    anchors form a chain of their own. Append-only like the events (model and trigger)."""

    id = models.BigAutoField(primary_key=True)
    archived_at = models.DateTimeField()
    # Events before this instant (UTC, the first day of a month) were due for archiving.
    cutoff = models.DateTimeField()
    from_seq = models.BigIntegerField()
    through_seq = models.BigIntegerField(unique=True)
    event_count = models.PositiveBigIntegerField()
    prev_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=255)
    # SHA-256 of the archive file as written: the file checked later must be this one.
    file_sha256 = models.CharField(max_length=64)

    objects: ClassVar[AppendOnlyQuerySet[AuditArchive]] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-through_seq"]

    def __str__(self) -> str:
        return f"audit archive #{self.from_seq}-#{self.through_seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit archive anchors are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit archive anchors are append-only.")


class AuditChainHead(models.Model):
    """One row: the newest event's ``seq`` and ``hash``. Writers lock it to append, so the
    chain is a line, never a tree; it also lets ``verify_audit`` notice a removed tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain head #{self.seq}"


# --- Change history (django-simple-history) ---------------------------------------------
# Clinical text stays out of the history tables: only note metadata is kept.
NOTE_TEXT_FIELDS = [
    "content",
    "sections",
    "structured_data",
    "extraction_error",
    "retraction_reason",
    "file",
]


# The audited apps import ``audit`` (the view mixin); ``audit`` reaches their models by
# label through the app registry, so imports run one way.
PATIENT_MODEL = "patients.Patient"
HISTORY_MODELS = {
    PATIENT_MODEL: ["search_document"],
    "doctors.Doctor": [],
    "appointments.Appointment": [],
    "outcomes.Outcome": [],
    "notes.Note": NOTE_TEXT_FIELDS,
}


def model_for(label: str) -> type[models.Model]:
    """A model by ``app_label.ModelName`` (its app's models are loaded before ours)."""
    return django_apps.get_model(label, require_ready=False)


def is_patient_model(model: Any) -> bool:
    return (
        isinstance(model, type)
        and issubclass(model, models.Model)
        and model._meta.label == PATIENT_MODEL
    )


def _register_history() -> None:
    for label, excluded in HISTORY_MODELS.items():
        register(model_for(label), app="audit", excluded_fields=excluded)


_register_history()
