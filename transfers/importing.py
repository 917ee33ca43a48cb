"""Bulk import of patients and interactions: validate every row, then write in one go.

An import runs in two passes:

1. **Validate** every row with the rules the API's services apply (the patient model's
   ``clean()``, the interaction services' rules 1-4), with the same error codes, and
   check identifiers set-based: duplicates inside the file, and clashes with the
   database in one query per 1,000 values rather than one per row.
2. **Write** the valid rows in one transaction: PostgreSQL ``COPY`` (psycopg 3), or
   ``bulk_create`` elsewhere. MRNs come from the same locked sequence as
   ``patient_create``; ``search_document`` is computed by the model's own method; the
   patients' ``latest_outcome`` is recomputed set-based from the same ``newest_first``
   order that ``refresh_latest_outcome`` uses, with the patient rows locked first (the
   interaction services' lock order).

By default an import is all or nothing: one invalid row and nothing is written.
``on_error=skip`` writes the valid rows and reports the rest. The database's unique
indexes stay the real guard against a concurrent writer: a race that slips past the
checks fails the whole transaction (409 ``import_conflict``), never half of it.
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Generic, TypeVar, cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from appointments.models import Appointment
from core import metrics
from core.errors import Conflict, CoreErrorCode
from core.serializers import AwareDateTimeField
from core.validators import clean_phone, validate_not_before_birth, validate_not_future
from doctors.models import Doctor
from interactions.errors import InteractionErrorCode
from interactions.models import MAX_NOTES_LENGTH, Interaction, InteractionStatus
from outcomes.models import Outcome
from patients.errors import PatientErrorCode
from patients.models import (
    Gender,
    LatestOutcome,
    MrnSequence,
    Patient,
    date_of_birth_error,
    earliest_clinical_time_of,
    search_document_of,
)
from transfers.errors import TransferErrorCode as Code
from transfers.formats import FileRejected, ParsedFile, parse
from transfers.gcpause import gc_paused

LOOKUP_CHUNK = 1000
ANY_CHUNK = 10000  # values per = ANY(array) lookup on PostgreSQL
PROGRESS_EVERY = 5000
MODES = ("create", "upsert")
ON_ERROR = ("abort", "skip")

RowError = dict[str, Any]
Progress = Callable[[int], None]
Item = TypeVar("Item")
# Called inside the writing transaction once the rows are written, so that whatever it
# records (an import job's final state) commits together with the rows or not at all.
Finish = Callable[["ImportReport"], None]


@dataclass
class ImportOptions:
    dry_run: bool = False
    mode: str = "create"
    on_error: str = "abort"
    ignore_unknown_columns: bool = False
    keep_mrn: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "mode": self.mode,
            "on_error": self.on_error,
            "ignore_unknown_columns": self.ignore_unknown_columns,
            "keep_mrn": self.keep_mrn,
        }


@dataclass
class ImportReport:
    kind: str
    format: str
    options: ImportOptions
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    written: bool = False
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": self.format,
            "options": self.options.as_dict(),
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "written": self.written,
            "error_count": len(self.errors),
            "errors": self.errors,
        }


def _err(row: int, name: str, code: str, detail: str) -> RowError:
    return {"row": row, "field": name, "code": str(code), "detail": detail}


def _chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def check_columns(
    parsed: ParsedFile,
    *,
    required: Sequence[str],
    known: Iterable[str],
    ignore_unknown: bool,
    one_of: Sequence[str] = (),
) -> None:
    """400 naming the missing required columns, and the unknown ones (unless ignored)."""
    present = set(parsed.columns)
    missing = [c for c in required if c not in present]
    if one_of and not present.intersection(one_of):
        missing.append(" or ".join(one_of))
    if missing:
        raise FileRejected(
            Code.MISSING_COLUMNS,
            f"Missing required column(s): {', '.join(missing)}.",
            columns=missing,
        )
    unknown = [c for c in parsed.columns if c not in set(known)]
    if unknown and not ignore_unknown:
        raise FileRejected(
            Code.UNKNOWN_COLUMNS,
            f"Unknown column(s): {', '.join(unknown)}. Remove them or pass "
            "ignore_unknown_columns=true.",
            columns=unknown,
        )


class _Row:
    """Typed access to one row's cells, collecting the row's errors."""

    __slots__ = ("errors", "number", "values")

    def __init__(self, number: int, values: dict[str, Any]) -> None:
        self.number = number
        self.values = values
        self.errors: list[RowError] = []

    def field_error(self, name: str, code: str, detail: str) -> None:
        """Record a problem with one cell (reported as ``{row, field, code, detail}``)."""
        self.errors.append(_err(self.number, name, code, detail))

    def has(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str, *, max_length: int | None = None) -> str | None:
        """The cell as text: ``None`` when absent (or JSON null), stripped otherwise."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.field_error(name, Code.INVALID, "Not a valid string.")
            return None
        value = str(value).strip()
        if "\x00" in value:
            self.field_error(name, Code.INVALID, "NUL characters are not allowed.")
            return None
        if max_length is not None and len(value) > max_length:
            self.field_error(
                name, "max_length", f"Ensure this field has no more than {max_length} characters."
            )
            return None
        return value

    def uuid(self, name: str) -> uuid.UUID | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            self.field_error(name, Code.INVALID, "Must be a valid UUID.")
            return None


def _django_errors(row: _Row, exc: ValidationError) -> None:
    for name, errors in exc.error_dict.items():
        for error in errors:
            for message in error.messages:
                row.field_error(name, error.code or Code.INVALID, message)


def _db_column(model: Any, name: str) -> str:
    """The quoted database column of a field name (``pk`` included)."""
    field = cast(Field, model._meta.pk if name == "pk" else model._meta.get_field(name))
    return connection.ops.quote_name(cast(str, field.column))


# Joins the text values of one = ANY lookup into a single parameter (see _existing_any).
_SEPARATOR = "\x1f"


def _existing_any(model: Any, expression: str, values: list[Any]) -> dict[Any, Any]:
    """PostgreSQL: ``{value: pk}`` for ``expression = ANY(%s)``, one array parameter per
    ANY_CHUNK values (one statement, planned once, instead of an ``IN`` list of 1,000
    placeholders that the ORM builds and psycopg splits per chunk).

    Text values travel as one string joined with the unit separator and split by the
    server (``string_to_array``): Django's client-side binding renders a list parameter
    element by element in Python (a regex and an escape per value, ~3 ms of CPU per
    5,000 values), a string in one libpq call. A chunk in which a value contains the
    separator itself goes as an array, as before."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    select = f"SELECT {expression}, {pk} FROM {table} WHERE {expression} = "  # noqa: S608  # nosec B608
    as_array = select + "ANY(%s)"
    as_text = select + "ANY(string_to_array(%s, chr(31)))"
    found: dict[Any, Any] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(values, ANY_CHUNK):
            joined = None
            if all(type(v) is str for v in chunk):
                joined = _SEPARATOR.join(chunk)
                if joined.count(_SEPARATOR) != len(chunk) - 1:
                    joined = None
            if joined:  # (string_to_array('') is the empty array, not {''})
                cursor.execute(as_text, [joined])
            else:
                cursor.execute(as_array, [list(chunk)])
            found.update(cursor.fetchall())
    return found


def _existing(model: Any, column: str, values: Iterable[Any]) -> dict[Any, Any]:
    """``{value: pk}`` for the stored rows whose ``column`` is one of ``values``."""
    found: dict[Any, Any] = {}
    unique = sorted({v for v in values if v is not None}, key=str)
    if not unique:
        return found
    if connection.vendor == "postgresql":
        return _existing_any(model, _db_column(model, column), unique)
    for chunk in _chunks(unique):
        found.update(model.objects.filter(**{f"{column}__in": chunk}).values_list(column, "pk"))
    return found


def _existing_patients(column: str, values: Iterable[Any]) -> list[tuple[Any, Any, Any]]:
    """``(value, pk, date_of_birth)`` of the patients whose ``column`` is one of
    ``values``: the interaction importer's patient lookup and birthday rule in one read."""
    unique = sorted({v for v in values if v is not None}, key=str)
    if not unique:
        return []
    if connection.vendor == "postgresql":
        name = _db_column(Patient, column)
        table = connection.ops.quote_name(Patient._meta.db_table)
        sql = f'SELECT {name}, "id", "date_of_birth" FROM {table} WHERE {name} = ANY(%s)'  # noqa: S608  # nosec B608
        found: list[tuple[Any, Any, Any]] = []
        with connection.cursor() as cursor:
            for chunk in _chunks(unique, ANY_CHUNK):
                cursor.execute(sql, [list(chunk)])
                found.extend(cursor.fetchall())
        return found
    rows: list[tuple[Any, Any, Any]] = []
    for chunk in _chunks(unique):
        rows.extend(
            Patient.objects.filter(**{f"{column}__in": chunk}).values_list(
                column, "pk", "date_of_birth"
            )
        )
    return rows


def _existing_emails(emails: Iterable[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    unique = sorted(set(emails))
    if not unique:
        return found
    if connection.vendor == "postgresql":
        # The expression of the patients_email_unique_ci index, so the index answers.
        return _existing_any(Patient, 'lower("email"::text)', unique)
    for chunk in _chunks(unique):
        found.update(
            Patient.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=chunk)
            .values_list("email_lower", "pk")
        )
    return found


def _note_duplicates(
    rows: Sequence[tuple[_Row, Any]],
    name: str,
    key: Callable[[Any], Any],
    first: dict[Any, int] | None = None,
) -> None:
    """Report the second and later rows that repeat a unique value of the file.
    ``first`` (value → row number) carries the earlier batches' values."""
    if first is None:
        first = {}
    for row, item in rows:
        value = key(item)
        if value is None or row.errors:
            continue
        seen = first.setdefault(value, row.number)
        if seen != row.number:
            row.field_error(name, Code.DUPLICATE_IN_FILE, f"The same {name} is on row {seen}.")


def _use_copy() -> bool:
    return connection.vendor == "postgresql"


def _copy_sql(table: str, columns: Sequence[str], types: Sequence[str] | None) -> str:
    binary = " (FORMAT BINARY)" if types is not None else ""
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN{binary}"


def _copy(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    types: Sequence[str] | None = None,
) -> None:
    """Bulk insert with PostgreSQL COPY through psycopg 3 (inside the caller's atomic);
    in the binary format when the columns' ``types`` are given (see _PATIENT_COPY_TYPES)."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(_copy_sql(table, columns, types)) as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)


# ---------------------------------------------------------------------------- patients

PATIENT_REQUIRED = ("first_name", "last_name", "date_of_birth")
PATIENT_OPTIONAL = ("gender", "email", "phone", "mrn", "external_id", "id")
# Columns of an export that an import accepts and ignores (the server maintains them).
PATIENT_READ_ONLY = ("latest_outcome", "latest_outcome_at", "created_at", "updated_at")
PATIENT_COMPARED = (
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "external_id",
)
GENDERS = frozenset(g.value for g in Gender)


class _NewPatient:
    """A validated row's patient fields: what the write needs, without the cost of a
    model instance per row (Django's constructor dominated a 100,000-row import)."""

    __slots__ = (
        "date_of_birth",
        "email",
        "external_id",
        "first_name",
        "gender",
        "last_name",
        "mrn",
        "phone",
        "pk",
        "search_document",
    )

    def __init__(
        self,
        *,
        first_name: str,
        last_name: str,
        date_of_birth: dt.date,
        gender: str,
        email: str | None,
        phone: str | None,
        external_id: str | None,
    ) -> None:
        self.pk: uuid.UUID | None = None
        self.mrn = ""
        self.search_document = ""
        self.first_name, self.last_name = first_name, last_name
        self.date_of_birth, self.gender = date_of_birth, gender
        self.email, self.phone, self.external_id = email, phone, external_id

    def refresh_search_document(self) -> None:
        self.search_document = search_document_of(
            self.first_name, self.last_name, self.mrn, self.email
        )

    def as_model(self, now: dt.datetime) -> Patient:
        return Patient(
            id=self.pk,
            mrn=self.mrn,
            external_id=self.external_id,
            first_name=self.first_name,
            last_name=self.last_name,
            date_of_birth=self.date_of_birth,
            gender=self.gender,
            email=self.email,
            phone=self.phone,
            search_document=self.search_document,
            created_at=now,
            updated_at=now,
        )


@dataclass
class _PatientRow:
    patient: _NewPatient
    mrn: str | None
    external_id: str | None
    given_id: uuid.UUID | None
    present: frozenset[str]
    match: uuid.UUID | None = None


PhoneCache = dict[str, tuple[str | None, ValidationError | None]]


def _clean_phone(raw: str | None, cache: PhoneCache) -> tuple[str | None, ValidationError | None]:
    """``clean_phone`` (the model's and the API's rule), once per distinct value of a file."""
    key = raw or ""
    known = cache.get(key)
    if known is None:
        try:
            known = (clean_phone(raw), None)
        except ValidationError as exc:
            known = (None, exc)
        cache[key] = known
    return known


class _EmailCheck:
    """Django's ``validate_email`` as a predicate, for the fast path: the same steps as
    ``EmailValidator.__call__`` with its user-part regex compiled once (the validator's
    regexes are lazy objects, a proxy call per use) and the domain verdict
    (``validate_domain_part``) cached per distinct domain of the file."""

    def __init__(self) -> None:
        regex = validate_email.user_regex
        self._user_match = re.compile(regex.pattern, regex.flags).match
        self._allowlist = frozenset(validate_email.domain_allowlist)
        self._domains: dict[str, bool] = {}

    def __call__(self, value: str) -> bool:
        if not value or "@" not in value or len(value) > 320:
            return False
        user_part, domain_part = value.rsplit("@", 1)
        if not self._user_match(user_part):
            return False
        known = self._domains.get(domain_part)
        if known is None:
            known = domain_part in self._allowlist or bool(
                validate_email.validate_domain_part(domain_part)
            )
            self._domains[domain_part] = known
        return known


# The patient cells the fast path reads, with the reference path's length limits.
_PATIENT_CELLS = (
    ("first_name", 100),
    ("last_name", 100),
    ("date_of_birth", None),
    ("gender", None),
    ("email", 254),
    ("phone", 32),
    ("mrn", 16),
    ("external_id", 64),
    ("id", None),
)


def _patient_fast(
    values: dict[str, Any], *, today: dt.date, phones: PhoneCache, email_ok: _EmailCheck
) -> _PatientRow | None:
    """The row's :class:`_PatientRow` when it passes every rule of
    :func:`_patient_from_row` by the plain route, else ``None`` (the caller then runs
    the reference path, which reports the problems with their codes).

    A conservative predicate: each check either accepts exactly what the reference
    accepts for a text cell, or gives up. Anything unusual (a non-text JSON value, NUL,
    too long, blank, a bad date, email, phone or UUID) goes to the reference path, so the
    errors and their order are the reference's by construction.
    ``test_patient_fast_path_matches_the_reference`` runs both over many rows."""
    cells: list[str | None] = []
    for name, limit in _PATIENT_CELLS:
        value = values.get(name)
        if value is not None:
            if type(value) is not str:
                return None
            value = value.strip()
            if "\x00" in value or (limit is not None and len(value) > limit):
                return None
        cells.append(value)
    first_name, last_name, raw_dob, gender, email, phone, mrn, external_id, raw_id = cells
    if not first_name or not last_name or not raw_dob:
        return None
    try:
        born = dt.date.fromisoformat(raw_dob)
    except ValueError:
        return None
    gender = gender or Gender.UNKNOWN
    if gender not in GENDERS:
        return None
    email = email or None
    if email is not None and not email_ok(email):
        return None
    given_id: uuid.UUID | None = None
    if raw_id:
        try:
            given_id = uuid.UUID(raw_id)
        except ValueError:
            return None
    clean, phone_error = _clean_phone(phone or None, phones)
    if phone_error is not None or date_of_birth_error(born, today=today) is not None:
        return None
    external_id = external_id or None
    patient = _NewPatient(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=born,
        gender=gender,
        email=email.lower() if email else None,
        phone=clean,
        external_id=external_id,
    )
    return _PatientRow(patient, mrn or None, external_id, given_id, frozenset(values))


def _patient_from_row(row: _Row, *, today: dt.date, phones: PhoneCache) -> _PatientRow | None:
    """One row through the patient model's rules (those of ``Patient.clean``, applied
    with the same functions: ``clean_phone``, ``date_of_birth_error``, blank names,
    lower-cased email) and the API serializer's field rules, with their codes."""
    first_name = row.text("first_name", max_length=100)
    last_name = row.text("last_name", max_length=100)
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        if value is None and not row.has(name):
            row.field_error(name, Code.REQUIRED, "This field is required.")
    born: dt.date | None = None
    problems = len(row.errors)
    raw_dob = row.text("date_of_birth")
    if raw_dob is None:
        if len(row.errors) == problems:  # absent or null, not already reported
            row.field_error("date_of_birth", Code.REQUIRED, "This field is required.")
    else:
        try:
            born = dt.date.fromisoformat(raw_dob)
        except ValueError:
            row.field_error(
                "date_of_birth",
                Code.INVALID,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            )
    gender = row.text("gender") or Gender.UNKNOWN
    if gender not in GENDERS:
        row.field_error("gender", "invalid_choice", f'"{gender}" is not a valid choice.')
    email = row.text("email", max_length=254) or None
    if email is not None:
        try:
            validate_email(email)
        except ValidationError:
            row.field_error("email", Code.INVALID, "Enter a valid email address.")
    phone = row.text("phone", max_length=32) or None
    mrn = row.text("mrn", max_length=16) or None
    external_id = row.text("external_id", max_length=64) or None
    given_id = row.uuid("id")
    if row.errors:
        return None
    # Patient.clean(): blank names, phone, birthday bounds, in that order.
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        if not value:
            row.field_error(name, CoreErrorCode.BLANK, "This field may not be blank.")
    phone, phone_error = _clean_phone(phone, phones)
    if phone_error is not None:
        for message in phone_error.messages:
            row.field_error("phone", phone_error.code or Code.INVALID, message)
    if born is not None:
        born_error = date_of_birth_error(born, today=today)
        if born_error is not None:
            for message in born_error.messages:
                row.field_error("date_of_birth", born_error.code or Code.INVALID, message)
    if row.errors:
        return None
    assert born is not None  # required: reported above when absent
    patient = _NewPatient(
        first_name=first_name or "",
        last_name=last_name or "",
        date_of_birth=born,
        gender=gender,
        email=email.lower() if email else None,
        phone=phone,
        external_id=external_id,
    )
    return _PatientRow(patient, mrn, external_id, given_id, frozenset(row.values))


def _match_patients(items: list[tuple[_Row, _PatientRow]], options: ImportOptions) -> None:
    """Resolve every row against the database: upsert finds the patient to update;
    create refuses identifiers that are taken."""
    by_mrn = _existing(Patient, "mrn", (p.mrn for _, p in items))
    by_external = _existing(Patient, "external_id", (p.external_id for _, p in items))
    by_id = _existing(Patient, "pk", (p.given_id for _, p in items))
    for row, item in items:
        if row.errors:
            continue
        if options.mode == "create":
            if item.external_id in by_external:
                row.field_error(
                    "external_id", Code.ALREADY_EXISTS, "A patient has this external_id."
                )
            if item.given_id in by_id:
                row.field_error("id", Code.ALREADY_EXISTS, "A patient has this id.")
            if options.keep_mrn and item.mrn in by_mrn:
                row.field_error("mrn", Code.ALREADY_EXISTS, "A patient has this MRN.")
            continue
        found = {
            name: pk
            for name, pk in (
                ("mrn", by_mrn.get(item.mrn)),
                ("external_id", by_external.get(item.external_id)),
                ("id", by_id.get(item.given_id)),
            )
            if pk is not None
        }
        if len(set(found.values())) > 1:
            row.field_error(
                "mrn" if "mrn" in found else "external_id",
                Code.IDENTIFIER_CLASH,
                "The row's identifiers ("
                + ", ".join(sorted(found))
                + ") belong to different patients.",
            )
            continue
        if found:
            item.match = next(iter(found.values()))
        elif item.mrn and not options.keep_mrn:
            row.field_error(
                "mrn",
                Code.UNKNOWN_MRN,
                "No patient has this MRN; pass keep_mrn=true to create the patient with it.",
            )


def _parse_patient(
    row: _Row, *, today: dt.date, phones: PhoneCache, email_ok: _EmailCheck
) -> _PatientRow | None:
    """The row's patient by the fast path, or by the reference path (which reports)."""
    item = _patient_fast(row.values, today=today, phones=phones, email_ok=email_ok)
    return item if item is not None else _patient_from_row(row, today=today, phones=phones)


def _check_patients(
    items: list[tuple[_Row, _PatientRow]],
    options: ImportOptions,
    firsts: dict[str, dict[Any, int]],
) -> None:
    """The file- and database-wide checks, in their order, on parsed rows; ``firsts``
    carries each identifier's first row across the batches of one file."""
    _ignore_file_mrns(items, options)
    _note_duplicates(items, "mrn", attrgetter("mrn"), firsts["mrn"])
    _note_duplicates(items, "external_id", attrgetter("external_id"), firsts["external_id"])
    _note_duplicates(items, "id", attrgetter("given_id"), firsts["id"])
    _match_patients(items, options)
    _check_emails(items, firsts["email"])


def _ignore_file_mrns(items: list[tuple[_Row, _PatientRow]], options: ImportOptions) -> None:
    """Create mode without ``keep_mrn`` ignores the file's ``mrn`` column (documented):
    every new patient takes the next number, so a source MRN can neither clash nor be
    stored."""
    if options.mode == "create" and not options.keep_mrn:
        for _, item in items:
            item.mrn = None


def _check_emails(
    items: list[tuple[_Row, _PatientRow]], first: dict[Any, int] | None = None
) -> None:
    # A row's patient.email is lower-cased already (both row paths store email.lower()).
    _note_duplicates(items, "email", attrgetter("patient.email"), first)
    taken = _existing_emails(e for _, p in items if (e := p.patient.email) is not None)
    for row, item in items:
        email = item.patient.email
        if row.errors or email is None:
            continue
        owner = taken.get(email)
        if owner is not None and owner != item.match:
            row.field_error(
                "email",
                PatientErrorCode.DUPLICATE_EMAIL,
                "A patient with this email already exists.",
            )


def _merge_updates(
    items: list[tuple[_Row, _PatientRow]],
) -> tuple[list[Patient], set[str], int]:
    """Apply upsert rows to the stored patients. Returns the patients that change, the
    fields that change, and how many matched rows changed nothing."""
    matched = [(row, item) for row, item in items if not row.errors and item.match is not None]
    stored: dict[uuid.UUID, Patient] = {}
    ids = [item.match for _, item in matched]
    for chunk in _chunks(ids):
        stored.update((p.pk, p) for p in Patient.objects.filter(pk__in=chunk))
    changed: list[Patient] = []
    fields: set[str] = set()
    unchanged = 0
    for _row, item in matched:
        assert item.match is not None
        target = stored[item.match]
        new = item.patient
        differs = [
            name
            for name in PATIENT_COMPARED
            if name in item.present and getattr(new, name) != getattr(target, name)
        ]
        if "external_id" in differs and new.external_id is None:
            differs.remove("external_id")  # a blank cell never forgets the source id
        if not differs:
            unchanged += 1
            continue
        for name in differs:
            setattr(target, name, getattr(new, name))
        target.refresh_search_document()
        fields.update(differs)
        changed.append(target)
    return changed, fields, unchanged


def _mrn_digits(mrn: str) -> int:
    digits = mrn.rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else 0


_PATIENT_COPY_COLUMNS = (
    "id",
    "mrn",
    "external_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "search_document",
    "created_at",
    "updated_at",
)
# The columns' types, for COPY in the binary format: psycopg's binary dumpers are C code
# and the server skips the text input functions (uuid, date, timestamptz), so the COPY
# of 100,000 patients costs ~0.3 s less Python and ~0.2 s less backend CPU than in text.
# Values must then be of exactly these types (``test_the_copy_types_are_the_tables``).
_PATIENT_COPY_TYPES = (
    "uuid",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "date",
    "varchar",
    "varchar",
    "varchar",
    "text",
    "timestamptz",
    "timestamptz",
)


def _copy_row(p: _NewPatient, now: dt.datetime) -> tuple[Any, ...]:
    return (
        p.pk,
        p.mrn,
        p.external_id,
        p.first_name,
        p.last_name,
        p.date_of_birth,
        p.gender,
        p.email,
        p.phone,
        p.search_document,
        now,
        now,
    )


def _assign_identities(creates: Iterable[_PatientRow], last_value: int) -> tuple[int, int]:
    """Give new patients their MRN (the file's when it has one, else the next number
    after ``last_value``), id and ``search_document``. Returns the new last value and
    the highest number among the kept MRNs (0 if none)."""
    kept = 0
    for item in creates:
        patient = item.patient
        if item.mrn:
            patient.mrn = item.mrn
            kept = max(kept, _mrn_digits(item.mrn))
        else:
            last_value += 1
            patient.mrn = f"MRN-{last_value:06d}"
        patient.pk = item.given_id or uuid.uuid4()
        patient.refresh_search_document()
    return last_value, kept


def _save_sequence(sequence: MrnSequence, next_value: int, kept: int) -> None:
    # Kept source MRNs move the counter past them, as mrn_sequence_sync does.
    highest = max(next_value, kept)
    if highest != sequence.last_value:
        sequence.last_value = highest
        sequence.save(update_fields=["last_value"])


def _write_patients(creates: list[_PatientRow], updates: list[Patient], fields: set[str]) -> None:
    now = timezone.now()
    sequence, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
    next_value, kept = _assign_identities(creates, sequence.last_value)
    _save_sequence(sequence, next_value, kept)
    patients = [item.patient for item in creates]
    if _use_copy():
        _copy(
            Patient._meta.db_table,
            _PATIENT_COPY_COLUMNS,
            (_copy_row(p, now) for p in patients),
            _PATIENT_COPY_TYPES,
        )
    else:
        Patient.objects.bulk_create([p.as_model(now) for p in patients], batch_size=500)
    if updates:
        for changed in updates:
            changed.updated_at = now
        Patient.objects.bulk_update(
            updates, sorted({*fields, "search_document", "updated_at"}), batch_size=500
        )


class _Abandon(Exception):
    """Roll the writer's transaction back (all or nothing met an invalid row)."""


class _BatchWriter(Generic[Item]):
    """PostgreSQL: an import's writes, in a thread with its own connection and
    transaction, fed batch by batch while the caller validates the next.

    The server's work (heap and index maintenance, foreign-key checks) then overlaps
    Python's validation instead of following it. Nothing is visible before
    :meth:`commit`: the rows and whatever ``finish`` records (an import job's final
    state) commit together, or :meth:`abandon` rolls all of it back — as does a process
    that dies meanwhile. The validating connection never sees the uncommitted rows, so
    its checks read exactly what the two-pass path reads. Subclasses write in
    :meth:`_write`, reading :meth:`_batches` and then :meth:`_closing`."""

    name = "import-writer"

    def __init__(self, finish: Finish | None) -> None:
        self._finish = finish
        self._queue: queue.Queue[list[Item] | tuple[str, ImportReport | None]] = queue.Queue(
            maxsize=4
        )
        self._last: tuple[str, ImportReport | None] = ("abandon", None)
        self._error: BaseException | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name=self.name)
        self._thread.start()

    def write(self, items: list[Item]) -> None:
        if items:
            self._queue.put(items)

    def commit(self, report: ImportReport) -> None:
        """Write the rest, then commit; raises what the writer raised (``IntegrityError``
        when a concurrent write took an identifier meanwhile)."""
        self._queue.put(("commit", report))
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        self._queue.put(("abandon", None))
        self._thread.join()

    def _batches(self) -> Iterator[list[Item]]:
        """The batches as they come, until the caller commits or abandons."""
        while not isinstance(message := self._queue.get(), tuple):
            yield message
        self._ended = True
        self._last = message

    def _closing(self) -> ImportReport:
        """The report to complete, once :meth:`_batches` ended: raises :class:`_Abandon`
        (the transaction rolls back) unless the caller committed."""
        action, report = self._last
        if action == "abandon" or report is None:
            raise _Abandon
        return report

    def _complete(self, report: ImportReport, created: int) -> None:
        report.created, report.written = created, True
        if self._finish is not None:
            self._finish(report)

    def _run(self) -> None:
        try:
            self._write()
        except _Abandon:
            pass
        except BaseException as exc:  # handed to the validating thread by commit()
            self._error = exc
            while not self._ended:  # never leave the caller blocked on a full queue
                self._ended = isinstance(self._queue.get(), tuple)
        finally:
            connection.close()  # this thread's own connection

    def _write(self) -> None:
        raise NotImplementedError


class _PatientWriter(_BatchWriter[_PatientRow]):
    """The COPY of an import's new patients (see :class:`_BatchWriter`); the MRN
    counter stays locked from the first batch to the commit."""

    name = "patient-import-writer"

    def _write(self) -> None:
        now = timezone.now()
        created = 0
        with transaction.atomic():
            sequence, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
            next_value, kept = sequence.last_value, 0
            sql = _copy_sql(Patient._meta.db_table, _PATIENT_COPY_COLUMNS, _PATIENT_COPY_TYPES)
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                copy.set_types(_PATIENT_COPY_TYPES)
                for batch in self._batches():
                    next_value, batch_kept = _assign_identities(batch, next_value)
                    kept = max(kept, batch_kept)
                    for item in batch:
                        copy.write_row(_copy_row(item.patient, now))
                    created += len(batch)
                report = self._closing()  # inside the COPY: psycopg cancels it on abandon
            _save_sequence(sequence, next_value, kept)
            self._complete(report, created)


PIPELINE_BATCH = 5000
# Serialises pipelined interaction imports (an arbitrary, fixed advisory-lock key): their
# writers lock patients batch by batch, so two at once could lock in crossing orders.
INTERACTION_IMPORT_LOCK = 0x494E544552414354  # "INTERACT"
# The first batch is smaller, so that the server starts writing sooner: it waits for
# the whole first batch, and that one is the slowest to validate (every phone, domain
# and birthday of it is new to the caches). 5,000 rows held PostgreSQL idle ~0.19 s.
PIPELINE_FIRST_BATCH = 500


def _batch_bounds(total: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of the pipelined import's batches over ``total`` rows."""
    start, size = 0, min(PIPELINE_FIRST_BATCH, PIPELINE_BATCH)
    while start < total:
        yield start, min(start + size, total)
        start, size = start + size, PIPELINE_BATCH


def _pipelined(options: ImportOptions) -> bool:
    """Whether an import validates and writes at once (:class:`_PatientWriter`,
    :class:`_InteractionWriter`): on PostgreSQL, in create mode, for real, and not
    inside the caller's transaction (whose uncommitted rows another connection could not
    see, and which expects the import to be part of it)."""
    return (
        connection.vendor == "postgresql"
        and options.mode == "create"
        and not options.dry_run
        and not connection.in_atomic_block
    )


def _pipeline(
    parsed: ParsedFile,
    options: ImportOptions,
    report: ImportReport,
    writer: _BatchWriter[Item],
    check: Callable[[Sequence[tuple[int, dict[str, Any]]]], tuple[list[_Row], list[Item]]],
    *,
    progress: Progress | None,
    conflict: str,
) -> ImportReport:
    """The rows in batches (``_batch_bounds``): ``check`` runs a batch through the
    two-pass path's checks in the same order and returns its rows and valid items, which
    go to ``writer`` while the next batch is checked. Under all or nothing the first
    invalid row abandons the writer; every batch is still checked, so the report is the
    two-pass path's (``test_pipelined_import``). A clash at the commit is a 409 with
    ``conflict`` as its detail."""
    rows: list[_Row] = []
    valid_count = 0
    writing = True
    try:
        for start, stop in _batch_bounds(len(parsed.rows)):
            batch_rows, valid = check(parsed.rows[start:stop])
            rows += batch_rows
            valid_count += len(valid)
            if writing and options.on_error == "abort" and len(valid) < stop - start:
                writing = False
                writer.abandon()
            if writing:
                writer.write(valid)
            if progress is not None:
                progress(stop)
    except BaseException:
        if writing:
            writer.abandon()
        raise
    if progress is not None and not parsed.rows:
        progress(0)
    report.errors = [e for row in rows for e in row.errors]
    report.skipped = len(parsed.rows) - valid_count
    if not writing:
        return report
    try:
        writer.commit(report)
    except IntegrityError as exc:
        raise Conflict(conflict, code=Code.IMPORT_CONFLICT) from exc
    return report


def _import_patients_pipelined(
    parsed: ParsedFile,
    options: ImportOptions,
    report: ImportReport,
    *,
    progress: Progress | None,
    finish: Finish | None,
) -> ImportReport:
    """Patients through :func:`_pipeline`: row rules, duplicates in the file so far,
    identifiers and emails against the database."""
    today = timezone.localdate()
    phones: PhoneCache = {}
    email_ok = _EmailCheck()
    firsts: dict[str, dict[Any, int]] = {n: {} for n in ("mrn", "external_id", "id", "email")}

    def check(
        batch: Sequence[tuple[int, dict[str, Any]]],
    ) -> tuple[list[_Row], list[_PatientRow]]:
        rows: list[_Row] = []
        items: list[tuple[_Row, _PatientRow]] = []
        for number, values in batch:
            row = _Row(number, values)
            rows.append(row)
            item = _parse_patient(row, today=today, phones=phones, email_ok=email_ok)
            if item is not None:
                items.append((row, item))
        _check_patients(items, options, firsts)
        return rows, [item for row, item in items if not row.errors]

    return _pipeline(
        parsed,
        options,
        report,
        _PatientWriter(finish),
        check,
        progress=progress,
        conflict="Another write took an email, MRN or external_id of this file meanwhile; "
        "nothing was imported. Retry the import.",
    )


def import_patients(
    parsed: ParsedFile,
    options: ImportOptions,
    *,
    progress: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Validate and write a file of patients (see the module doc), with the cyclic
    garbage collector paused (``transfers.gcpause``)."""
    with gc_paused():
        return _import_patients(parsed, options, progress=progress, finish=finish)


def _import_patients(
    parsed: ParsedFile,
    options: ImportOptions,
    *,
    progress: Progress | None,
    finish: Finish | None,
) -> ImportReport:
    check_columns(
        parsed,
        required=PATIENT_REQUIRED,
        known=(*PATIENT_REQUIRED, *PATIENT_OPTIONAL, *PATIENT_READ_ONLY),
        ignore_unknown=options.ignore_unknown_columns,
    )
    report = ImportReport("patients", parsed.format, options, total_rows=len(parsed.rows))
    if _pipelined(options):
        return _import_patients_pipelined(parsed, options, report, progress=progress, finish=finish)
    today = timezone.localdate()
    phones: PhoneCache = {}
    email_ok = _EmailCheck()
    rows: list[_Row] = []
    items: list[tuple[_Row, _PatientRow]] = []
    for index, (number, values) in enumerate(parsed.rows, start=1):
        row = _Row(number, values)
        rows.append(row)
        item = _parse_patient(row, today=today, phones=phones, email_ok=email_ok)
        if item is not None:
            items.append((row, item))
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index)
    _check_patients(items, options, {n: {} for n in ("mrn", "external_id", "id", "email")})
    report.errors = [e for row in rows for e in row.errors]
    if progress is not None:
        progress(len(parsed.rows))
    valid = [(row, item) for row, item in items if not row.errors]
    report.skipped = len(parsed.rows) - len(valid)
    creates = [item for _, item in valid if item.match is None]
    updates, fields, unchanged = _merge_updates(valid)
    if options.dry_run or (report.errors and options.on_error == "abort"):
        if options.dry_run:  # what a real run would do
            report.created, report.updated = len(creates), len(updates)
            report.unchanged = unchanged
        return report
    try:
        with transaction.atomic():
            _write_patients(creates, updates, fields)
            report.created, report.updated = len(creates), len(updates)
            report.unchanged, report.written = unchanged, True
            if finish is not None:
                finish(report)
    except IntegrityError as exc:
        raise Conflict(
            "Another write took an email, MRN or external_id of this file meanwhile; "
            "nothing was imported. Retry the import.",
            code=Code.IMPORT_CONFLICT,
        ) from exc
    return report


# ------------------------------------------------------------------------ interactions

PATIENT_REFS = ("patient_id", "mrn", "external_id")
INTERACTION_REQUIRED = ("outcome", "occurred_at")
INTERACTION_OPTIONAL = ("notes", "doctor_id", "appointment_id", "id", *PATIENT_REFS)
INTERACTION_READ_ONLY = (
    "outcome_label",
    "outcome_severity",
    "status",
    "amends",
    "amended_by",
    "recorded_by",
    "recorded_at",
    "retraction_reason",
    "retracted_at",
    "retracted_by",
)


@dataclass
class _InteractionRow:
    patient_ref: tuple[str, Any]
    outcome: str
    occurred_at: dt.datetime
    notes: str
    doctor_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    given_id: uuid.UUID | None
    patient_id: uuid.UUID | None = None


def _interaction_from_row(
    row: _Row, *, outcomes: dict[str, Outcome], now: dt.datetime, when: AwareDateTimeField
) -> _InteractionRow | None:
    ref: tuple[str, Any] | None = None
    for name in PATIENT_REFS:
        value: Any = row.uuid(name) if name == "patient_id" else row.text(name, max_length=64)
        if value:
            ref = (name, value)
            break
    if ref is None and not row.errors:
        row.field_error(
            "patient_id", Code.REQUIRED, "Give the patient's patient_id, mrn or external_id."
        )
    code = row.text("outcome")
    if not code:
        row.field_error("outcome", Code.REQUIRED, "This field is required.")
    elif code not in outcomes:
        row.field_error("outcome", Code.DOES_NOT_EXIST, f"Object with code={code} does not exist.")
    elif not outcomes[code].is_active:
        # Rule 2 of interactions.services: a new entry needs an active outcome.
        row.field_error(
            "outcome",
            InteractionErrorCode.OUTCOME_INACTIVE,
            f"The outcome '{code}' is inactive and cannot be used for new interactions.",
        )
    occurred_at: dt.datetime | None = None
    raw_when = row.text("occurred_at")
    if not raw_when:
        row.field_error("occurred_at", Code.REQUIRED, "This field is required.")
    else:
        try:
            occurred_at = when.to_internal_value(raw_when)
        except serializers.ValidationError as exc:
            for detail in cast(list[Any], exc.detail):
                row.field_error("occurred_at", getattr(detail, "code", Code.INVALID), str(detail))
        if occurred_at is not None:
            try:  # rule 1 of the interaction services, with their validator
                validate_not_future(
                    occurred_at,
                    field="occurred_at",
                    message="An interaction cannot be recorded for the future.",
                    now=now,
                )
            except ValidationError as exc:
                _django_errors(row, exc)
    notes = row.text("notes", max_length=MAX_NOTES_LENGTH) or ""
    doctor_id = row.uuid("doctor_id")
    appointment_id = row.uuid("appointment_id")
    given_id = row.uuid("id")
    status = row.text("status")
    if status and status != InteractionStatus.CURRENT:
        row.field_error(
            "status",
            Code.NOT_IMPORTABLE,
            "Only current entries can be imported; amended and retracted history cannot.",
        )
    if row.errors:
        return None
    assert ref is not None
    assert code is not None
    assert occurred_at is not None
    return _InteractionRow(ref, code, occurred_at, notes, doctor_id, appointment_id, given_id)


def _interaction_fast(
    values: dict[str, Any],
    *,
    outcomes: dict[str, Outcome],
    now: dt.datetime,
    zone: dt.tzinfo,
) -> _InteractionRow | None:
    """The row's :class:`_InteractionRow` when it passes every rule of
    :func:`_interaction_from_row` by the plain route, else ``None`` (the caller then runs
    the reference path, which reports the problems).

    Like :func:`_patient_fast`, a conservative predicate: a text cell is accepted only
    where the reference accepts it, anything else gives up. ``occurred_at`` is what
    ``AwareDateTimeField`` returns for an ISO 8601 text with an offset: Django's
    ``parse_datetime``, then ``astimezone`` of the current time zone (DRF's
    ``enforce_timezone``), with ``zone`` looked up once per file instead of per row."""

    def cell(name: str, limit: int | None = None) -> str | None:
        value = values.get(name)
        if value is None:
            return None
        if type(value) is not str:
            raise _GiveUp
        value = value.strip()
        if "\x00" in value or (limit is not None and len(value) > limit):
            raise _GiveUp
        return value

    def ident(name: str) -> uuid.UUID | None:
        raw = cell(name)
        if not raw:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise _GiveUp from None

    try:
        ref: tuple[str, Any] | None = None
        for name in PATIENT_REFS:
            found: Any = ident(name) if name == "patient_id" else cell(name, 64)
            if found:
                ref = (name, found)
                break
        code = cell("outcome")
        raw_when = cell("occurred_at")
        if ref is None or not code or not raw_when:
            return None
        outcome = outcomes.get(code)
        if outcome is None or not outcome.is_active:
            return None
        try:
            parsed = parse_datetime(raw_when)
            if parsed is None or parsed.utcoffset() is None:
                return None
            occurred_at = parsed.astimezone(zone)
            validate_not_future(occurred_at, field="occurred_at", message="", now=now)
        except (ValueError, OverflowError, ValidationError):
            return None
        notes = cell("notes", MAX_NOTES_LENGTH) or ""
        doctor_id, appointment_id, given_id = (
            ident("doctor_id"),
            ident("appointment_id"),
            ident("id"),
        )
        status = cell("status")
    except _GiveUp:
        return None
    if status and status != InteractionStatus.CURRENT:
        return None
    return _InteractionRow(ref, code, occurred_at, notes, doctor_id, appointment_id, given_id)


class _GiveUp(Exception):
    """A cell the fast path leaves to the reference path."""


def _resolve_interactions(
    items: list[tuple[_Row, _InteractionRow]], first_ids: dict[Any, int] | None = None
) -> None:
    """The checks against the database and the file, set-based; ``first_ids`` carries
    the earlier batches' interaction ids (the pipelined import)."""
    refs: dict[str, set[Any]] = {name: set() for name in PATIENT_REFS}
    for _, item in items:
        refs[item.patient_ref[0]].add(item.patient_ref[1])
    patients: dict[str, dict[Any, uuid.UUID]] = {}
    earliest: dict[uuid.UUID, dt.datetime] = {}
    for name, column in (("patient_id", "pk"), ("mrn", "mrn"), ("external_id", "external_id")):
        patients[name] = {}
        for value, pk, born in _existing_patients(column, refs[name]):
            patients[name][value] = pk
            if pk not in earliest:
                earliest[pk] = earliest_clinical_time_of(born)
    doctors = _existing(Doctor, "pk", (i.doctor_id for _, i in items))
    appointment_owner: dict[uuid.UUID, uuid.UUID] = {}
    wanted = sorted({i.appointment_id for _, i in items if i.appointment_id}, key=str)
    for chunk in _chunks(wanted):
        appointment_owner.update(
            Appointment.objects.filter(pk__in=chunk).values_list("pk", "patient_id")
        )
    taken = _existing(Interaction, "pk", (i.given_id for _, i in items))
    _note_duplicates(items, "id", lambda i: i.given_id, first_ids)
    for row, item in items:
        if row.errors:
            continue
        name, value = item.patient_ref
        item.patient_id = patients[name].get(value)
        if item.patient_id is None:
            row.field_error(name, Code.DOES_NOT_EXIST, f"No patient has this {name}.")
        else:
            try:  # rule 1 of the interaction services: not before the patient's birth day
                validate_not_before_birth(
                    item.occurred_at,
                    born=earliest[item.patient_id],
                    field="occurred_at",
                    message="An interaction cannot have occurred before the patient's date "
                    "of birth.",
                )
            except ValidationError as exc:
                _django_errors(row, exc)
        if item.doctor_id is not None and item.doctor_id not in doctors:
            row.field_error("doctor_id", Code.DOES_NOT_EXIST, "No doctor has this id.")
        if item.appointment_id is not None:
            owner = appointment_owner.get(item.appointment_id)
            if owner is None:
                row.field_error(
                    "appointment_id", Code.DOES_NOT_EXIST, "No appointment has this id."
                )
            elif item.patient_id is not None and owner != item.patient_id:
                # Rule 3: the appointment belongs to the same patient.
                row.field_error(
                    "appointment_id",
                    InteractionErrorCode.OTHER_PATIENT,
                    "The appointment belongs to another patient.",
                )
        if item.given_id is not None and item.given_id in taken:
            row.field_error("id", Code.ALREADY_EXISTS, "An interaction has this id.")


def refresh_latest_outcomes(patient_ids: Sequence[uuid.UUID]) -> None:
    """Set-based ``refresh_latest_outcome`` for many patients (rows already locked),
    over current entries in the same ``newest_first`` order. Every patient given has at
    least one current interaction (the import only adds current ones).

    PostgreSQL: one ``INSERT ... SELECT DISTINCT ON (patient_id) ... ON CONFLICT DO
    UPDATE`` per chunk, writing only rows that change; elsewhere the newest entry of
    each patient is picked here and upserted.
    """
    newest_order = Interaction.objects.newest_first().query.order_by
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(LatestOutcome._meta.db_table)
        for chunk in _chunks(patient_ids, 5000):
            latest = (
                Interaction.objects.current()
                .filter(patient_id__in=chunk)
                .order_by("patient_id", *newest_order)
                .distinct("patient_id")
                .values_list("patient_id", "outcome_id", "occurred_at")
            )
            sql, params = latest.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} AS l (patient_id, outcome_id, occurred_at) {sql} "  # nosec B608
                    "ON CONFLICT (patient_id) DO UPDATE SET outcome_id = EXCLUDED.outcome_id, "
                    "occurred_at = EXCLUDED.occurred_at WHERE (l.outcome_id, l.occurred_at) "
                    "IS DISTINCT FROM (EXCLUDED.outcome_id, EXCLUDED.occurred_at)",
                    params,
                )
        return
    for chunk in _chunks(patient_ids):
        newest: dict[uuid.UUID, LatestOutcome] = {}
        for patient_id, outcome_id, occurred_at in (
            Interaction.objects.current()
            .filter(patient_id__in=chunk)
            .order_by("patient_id", *newest_order)
            .values_list("patient_id", "outcome_id", "occurred_at")
        ):
            if patient_id not in newest:
                newest[patient_id] = LatestOutcome(
                    patient_id=patient_id, outcome_id=outcome_id, occurred_at=occurred_at
                )
        LatestOutcome.objects.bulk_create(
            list(newest.values()),
            update_conflicts=True,
            unique_fields=["patient"],
            update_fields=["outcome", "occurred_at"],
            batch_size=500,
        )


INTERACTION_COPY_COLUMNS = (
    "id",
    "patient_id",
    "doctor_id",
    "appointment_id",
    "outcome_id",
    "notes",
    "occurred_at",
    "recorded_by_id",
    "recorded_at",
    "status",
    "retraction_reason",
)


def _interaction_copy_rows(
    items: Iterable[_InteractionRow], actor_id: int, now: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    current = InteractionStatus.CURRENT.value
    for i in items:
        yield (
            i.given_id or uuid.uuid4(),
            i.patient_id,
            i.doctor_id,
            i.appointment_id,
            i.outcome,
            i.notes,
            i.occurred_at,
            actor_id,
            now,
            current,
            "",
        )


def _lock_patients(patient_ids: Sequence[uuid.UUID]) -> None:
    """The interaction services' lock order: the patient rows first (sorted, in chunks)."""
    for chunk in _chunks(patient_ids):
        list(Patient.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values("pk"))


def _count_interactions_on_commit(counts: Counter[str]) -> None:
    def count_metrics() -> None:
        for code, count in counts.items():
            metrics.interactions_recorded.labels(outcome=code).inc(count)

    metrics.after_commit(count_metrics)


def _write_interactions(items: list[_InteractionRow], actor: User) -> None:
    now = timezone.now()
    patient_ids = sorted({i.patient_id for i in items if i.patient_id}, key=str)
    _lock_patients(patient_ids)
    if _use_copy():
        _copy(
            Interaction._meta.db_table,
            INTERACTION_COPY_COLUMNS,
            _interaction_copy_rows(items, actor.pk, now),
        )
    else:
        Interaction.objects.bulk_create(
            [
                Interaction(
                    id=i.given_id or uuid.uuid4(),
                    patient_id=cast(uuid.UUID, i.patient_id),
                    doctor_id=i.doctor_id,
                    appointment_id=i.appointment_id,
                    outcome_id=i.outcome,
                    notes=i.notes,
                    occurred_at=i.occurred_at,
                    recorded_by_id=actor.pk,
                )
                for i in items
            ],
            batch_size=500,
        )
    refresh_latest_outcomes(patient_ids)
    _count_interactions_on_commit(Counter(i.outcome for i in items))


class _InteractionWriter(_BatchWriter[_InteractionRow]):
    """The writes of an interaction import (see :class:`_BatchWriter`): each batch locks
    its patients (the services' lock order) and is copied; at the commit the patients'
    latest outcomes are refreshed, once."""

    name = "interaction-import-writer"

    def __init__(self, actor: User, finish: Finish | None) -> None:
        self._actor_id = actor.pk
        super().__init__(finish)

    def _write(self) -> None:
        now = timezone.now()
        locked: set[uuid.UUID] = set()
        counts: Counter[str] = Counter()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INTERACTION_IMPORT_LOCK])
                # Foreign keys checked as each batch is copied, while the next one is
                # validated, rather than all at commit: the same checks, overlapped.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for batch in self._batches():
                new = {i.patient_id for i in batch if i.patient_id} - locked
                _lock_patients(sorted(new, key=str))
                locked |= new
                _copy(
                    Interaction._meta.db_table,
                    INTERACTION_COPY_COLUMNS,
                    _interaction_copy_rows(batch, self._actor_id, now),
                )
                counts.update(i.outcome for i in batch)
            report = self._closing()
            refresh_latest_outcomes(sorted(locked, key=str))
            _count_interactions_on_commit(counts)
            self._complete(report, counts.total())


def _import_interactions_pipelined(
    parsed: ParsedFile,
    report: ImportReport,
    options: ImportOptions,
    *,
    actor: User,
    progress: Progress | None,
    finish: Finish | None,
) -> ImportReport:
    """Interactions through :func:`_pipeline`: row rules, then the file's and the
    database's identifiers, written by :class:`_InteractionWriter`."""
    outcomes = {o.code: o for o in Outcome.objects.all()}
    now = timezone.now()
    when = AwareDateTimeField()
    zone = timezone.get_current_timezone()
    first_ids: dict[Any, int] = {}

    def check(
        batch: Sequence[tuple[int, dict[str, Any]]],
    ) -> tuple[list[_Row], list[_InteractionRow]]:
        rows: list[_Row] = []
        items: list[tuple[_Row, _InteractionRow]] = []
        for number, values in batch:
            row = _Row(number, values)
            rows.append(row)
            item = _interaction_fast(values, outcomes=outcomes, now=now, zone=zone)
            if item is None:
                item = _interaction_from_row(row, outcomes=outcomes, now=now, when=when)
            if item is not None:
                items.append((row, item))
        _resolve_interactions(items, first_ids)
        return rows, [item for row, item in items if not row.errors]

    return _pipeline(
        parsed,
        options,
        report,
        _InteractionWriter(actor, finish),
        check,
        progress=progress,
        conflict="Another write clashed with this file meanwhile; nothing was imported. Retry.",
    )


def import_interactions(
    parsed: ParsedFile,
    options: ImportOptions,
    *,
    actor: User,
    progress: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Validate and write a file of interactions (see the module doc), with the cyclic
    garbage collector paused (``transfers.gcpause``)."""
    with gc_paused():
        return _import_interactions(parsed, options, actor=actor, progress=progress, finish=finish)


def _import_interactions(
    parsed: ParsedFile,
    options: ImportOptions,
    *,
    actor: User,
    progress: Progress | None,
    finish: Finish | None,
) -> ImportReport:
    check_columns(
        parsed,
        required=INTERACTION_REQUIRED,
        one_of=PATIENT_REFS,
        known=(*INTERACTION_REQUIRED, *INTERACTION_OPTIONAL, *INTERACTION_READ_ONLY),
        ignore_unknown=options.ignore_unknown_columns,
    )
    if options.mode != "create":
        raise FileRejected(
            Code.INVALID_OPTION, "Interactions are imported in create mode only.", option="mode"
        )
    report = ImportReport("interactions", parsed.format, options, total_rows=len(parsed.rows))
    if _pipelined(options):
        return _import_interactions_pipelined(
            parsed, report, options, actor=actor, progress=progress, finish=finish
        )
    outcomes = {o.code: o for o in Outcome.objects.all()}
    now = timezone.now()
    when = AwareDateTimeField()
    zone = timezone.get_current_timezone()
    rows: list[_Row] = []
    items: list[tuple[_Row, _InteractionRow]] = []
    for index, (number, values) in enumerate(parsed.rows, start=1):
        row = _Row(number, values)
        rows.append(row)
        item = _interaction_fast(values, outcomes=outcomes, now=now, zone=zone)
        if item is None:
            item = _interaction_from_row(row, outcomes=outcomes, now=now, when=when)
        if item is not None:
            items.append((row, item))
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index)
    _resolve_interactions(items)
    report.errors = [e for row in rows for e in row.errors]
    if progress is not None:
        progress(len(parsed.rows))
    valid = [item for row, item in items if not row.errors]
    report.skipped = len(parsed.rows) - len(valid)
    if options.dry_run or (report.errors and options.on_error == "abort"):
        if options.dry_run:
            report.created = len(valid)
        return report
    try:
        with transaction.atomic():
            _write_interactions(valid, actor)
            report.created, report.written = len(valid), True
            if finish is not None:
                finish(report)
    except IntegrityError as exc:
        raise Conflict(
            "Another write clashed with this file meanwhile; nothing was imported. Retry.",
            code=Code.IMPORT_CONFLICT,
        ) from exc
    return report


def run_import(
    *,
    kind: str,
    data: bytes | ParsedFile,
    options: ImportOptions,
    actor: User,
    progress: Progress | None = None,
    finish: Finish | None = None,
) -> ImportReport:
    """Parse (unless already parsed) and import one file. Raises :class:`FileRejected`
    for a file that cannot be imported at all; row problems are in the report."""
    if options.mode not in MODES:
        raise FileRejected(
            Code.INVALID_OPTION, f"mode must be one of {', '.join(MODES)}.", option="mode"
        )
    if options.on_error not in ON_ERROR:
        raise FileRejected(
            Code.INVALID_OPTION,
            f"on_error must be one of {', '.join(ON_ERROR)}.",
            option="on_error",
        )
    parsed = parse(data) if isinstance(data, bytes) else data
    if kind == "patients":
        return import_patients(parsed, options, progress=progress, finish=finish)
    return import_interactions(parsed, options, actor=actor, progress=progress, finish=finish)
