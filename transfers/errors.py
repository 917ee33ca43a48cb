"""Error codes of bulk imports and exports: the file-level codes of 400/413/415 answers
and the row-level codes of an import report. Rows that the API itself would reject carry
the API's own code (``blank``, ``invalid_phone``, ``duplicate_email``, ``outcome_inactive``,
...); these are the codes only an import can produce."""

from __future__ import annotations

from core.errors import ErrorCode


class TransferErrorCode(ErrorCode):
    # File level (the whole request is refused).
    FILE_REQUIRED = "file_required"
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    MALFORMED_FILE = "malformed_file"
    EMPTY_FILE = "empty_file"
    MISSING_COLUMNS = "missing_columns"
    UNKNOWN_COLUMNS = "unknown_columns"
    INVALID_OPTION = "invalid_option"
    IMPORT_REJECTED = "import_rejected"
    JOB_NOT_RETRYABLE = "job_not_retryable"
    QUEUE_UNAVAILABLE = "queue_unavailable"
    # Row level (an entry of the report's ``errors``).
    REQUIRED = "required"
    INVALID = "invalid"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    ALREADY_EXISTS = "already_exists"
    UNKNOWN_MRN = "unknown_mrn"
    IDENTIFIER_CLASH = "identifier_clash"
    DOES_NOT_EXIST = "does_not_exist"
    NOT_IMPORTABLE = "not_importable"
    # Job level (``ImportJob.failure_code``).
    WORKER_LOST = "worker_lost"
    IMPORT_CONFLICT = "import_conflict"
