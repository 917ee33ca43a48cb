"""Import jobs: a large import file run by a Celery worker, with its progress and report."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    PATIENTS = "patients", "Patients"
    INTERACTIONS = "interactions", "Interactions"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One uploaded file and what became of it.

    ``processed_rows`` counts validated rows while the job runs; the rows are written in
    one transaction at the end, so until ``succeeded`` nothing of the file is visible
    (a worker that dies leaves the database as if the import never ran).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_format = models.CharField(max_length=8, blank=True, default="")
    options = models.JSONField(default=dict, help_text="dry_run, mode, on_error, ...")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, help_text="[{row, field, code, detail}]")
    failure_code = models.CharField(max_length=32, blank=True, default="")
    failure_detail = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in ImportStatus]),
                name="transfers_import_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="transfers_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} import {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
