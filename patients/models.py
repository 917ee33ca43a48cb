"""Patients: demographics and the medical record number."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, models
from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from core.errors import CoreErrorCode
from core.validators import clean_phone
from patients.errors import PatientErrorCode
from patients.name_words import Correction, corrections

MAX_AGE_YEARS = 130
EMAIL_UNIQUE = "patients_email_unique_ci"
MAX_SEARCH_WORDS = 8
# pg_trgm.word_similarity_threshold on PostgreSQL (set per connection in settings).
SEARCH_THRESHOLD = 0.3
# Search words matched exactly, not by trigrams (PatientQuerySet.search).
MRN_WORD = re.compile(r"mrn-\d+")
EMAIL_WORD = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Clinical times of a patient whose birth date is unknown are not accepted before this.
EARLIEST_CLINICAL_DATE = date(1900, 1, 1)


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PatientQuerySet(models.QuerySet["Patient"]):
    def search(self, text: str) -> PatientQuerySet:
        """Fuzzy search over names, MRN and email, best match first.

        Every query word must match; word order is free. How a word matches depends on
        the dictionary of name words (``patients.name_words``: each first and last name
        once, a few thousand names rather than a million rows):

        * a **name word** — some first or last name is the word itself or one edit away
          (a letter deleted, inserted or replaced, or two neighbours swapped: "rtuh" is
          Ruth, "smiht" Smith) — matches patients whose first or last name is one of
          those names, or any name the word is word-similar to (pg_trgm's ``%>`` at 0.3
          against the dictionary: "smith" still finds Smithers). The name indexes
          find the rows;
        * any other word ("smi", part of an email) matches when it is word-similar to
          the patient's whole search document (names, MRN, email) by pg_trgm's word
          similarity at 0.3: "Garcai" finds Garcia, "smi" Smithers. PostgreSQL serves it
          from the GIN trigram index, SQLite from its FTS5 trigram index
          (``patients.search_index``) and the same similarity (``patients.trigram``).

        Trigrams alone miss a transposition near the start of a short name (``rtuh``
        shares one trigram with ``ruth``); the dictionary finds it, and asking the name
        indexes instead of the trigram index over every row is what keeps a search of a
        million patients in milliseconds (issue 14, ``bench/RESULTS.md``).

        The ranking, deterministic and the same on both databases: each word scores 3
        if it is the patient's first or last name (any case), 2 if that name is one
        edit away, else its word similarity to the search document (at most 1); results
        are ordered by the sum, highest first, then by id. So exact names come before
        corrected ones, and both before patients found by similarity alone.

        A word that is a whole MRN ("mrn-000042") or email address is an identifier and
        matched exactly: by trigrams every MRN resembles every other ("mrn", "000"), so
        a fuzzy MRN would match the whole clinic.
        """
        words = [w for w in text.lower().split() if w][:MAX_SEARCH_WORDS]
        if not words:
            return self
        qs = self
        rank: Any = None
        fuzzy: list[str] = []
        for word in words:
            if MRN_WORD.fullmatch(word):
                qs = qs.filter(mrn=word.upper())
            elif EMAIL_WORD.fullmatch(word):
                # Served by the unique index on lower(email), partial on NOT NULL.
                qs = qs.filter(Exact(Lower("email"), word), email__isnull=False)
            else:
                fuzzy.append(word)
        if not fuzzy:
            return qs.annotate(search_rank=Value(float(len(words)))).order_by("id")
        # The dictionary is read where this queryset reads (the replica for list views).
        names = corrections(connections[self.db], fuzzy)
        for word, correction in names.items():
            if correction:
                known = {*correction.exact, *correction.corrected}
                similar = _similar_names(word, using=self.db)
                correction.similar = [n for n in similar if n not in known]
        named = [names[word] for word in fuzzy if names[word]]
        if len(named) == 2:
            # Two name words (the usual "first last" query), written so that each arm
            # is one probe of a name index rather than an intersection of large sets.
            qs = qs.filter(_named_pair(*named))
        else:
            for correction in named:
                qs = qs.filter(_named(correction))
        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import TrigramWordSimilarity

            for word in fuzzy:
                if not names[word]:
                    qs = qs.filter(search_document__trigram_word_similar=word)
                term = _word_score(names[word], TrigramWordSimilarity(word, "search_document"))
                rank = term if rank is None else rank + term
            return qs.annotate(search_rank=rank).order_by(F("search_rank").desc(), "id")
        from django.db.models.expressions import RawSQL

        from patients.trigram import PrefilteredWordSimilarity, candidate_ids_sql, has_index

        indexed = has_index(connection)
        for index, word in enumerate(fuzzy):
            name = f"search_similarity_{index}"
            if names[word]:
                # A name word: the name indexes found the rows, the similarity only ranks
                # (exact for the rows that reach the threshold, the only ones it ranks).
                similarity = PrefilteredWordSimilarity(
                    word, "search_document", threshold=SEARCH_THRESHOLD, prefilter=False
                )
                qs = qs.alias(**{name: similarity})
            else:
                candidates = candidate_ids_sql(word, SEARCH_THRESHOLD) if indexed else None
                if candidates is not None:
                    # The trigram index narrows the rows; the similarity decides among
                    # them. The SQL is patients.trigram's own; the trigrams are parameters.
                    qs = qs.filter(pk__in=RawSQL(*candidates))  # noqa: S611  # nosec B611
                similarity = PrefilteredWordSimilarity(
                    word,
                    "search_document",
                    threshold=SEARCH_THRESHOLD,
                    prefilter=candidates is None,
                )
                qs = qs.alias(**{name: similarity}).filter(**{f"{name}__gte": SEARCH_THRESHOLD})
            term = _word_score(names[word], F(name))
            rank = term if rank is None else rank + term
        return qs.annotate(search_rank=rank).order_by(F("search_rank").desc(), "id")


def _similar_names(word: str, *, using: str) -> list[str]:
    """The dictionary's names that ``word`` is word-similar to at ``SEARCH_THRESHOLD``
    (pg_trgm's ``%>`` through the dictionary's trigram index; on SQLite
    ``patients.trigram``'s port over the dictionary, natively pre-filtered). Sorted."""
    names = NameWord.objects.using(using).all()
    if connection.vendor == "postgresql":
        names = names.filter(word__trigram_word_similar=word)
    else:
        from patients.trigram import PrefilteredWordSimilarity

        similarity = PrefilteredWordSimilarity(word, "word", threshold=SEARCH_THRESHOLD)
        names = names.alias(similarity=similarity).filter(similarity__gte=SEARCH_THRESHOLD)
    return sorted(set(names.values_list("name", flat=True)))


def _named(correction: Correction) -> Q:
    """Patients whose first or last name is one of the word's names: exact, corrected or
    word-similar (the name indexes serve it)."""
    names = correction.names
    return Q(last_name__in=names) | Q(first_name__in=names)


def _named_pair(one: Correction, other: Correction) -> Q:
    """``_named(one) & _named(other)`` in disjunctive form: one name is the last name and
    the other the first (the (last_name, first_name, id) index answers both at once),
    or both are the same field."""
    both = sorted(set(one.names) & set(other.names))
    pair = Q(last_name__in=one.names, first_name__in=other.names) | Q(
        last_name__in=other.names, first_name__in=one.names
    )
    if both:
        pair |= Q(last_name__in=both) | Q(first_name__in=both)
    return pair


def _word_score(correction: Correction, similarity: Any) -> Any:
    """One query word's part of ``search_rank``: 3 for an exact name, 2 for a corrected
    one, else the word similarity."""
    whens = [
        When(Q(last_name__in=names) | Q(first_name__in=names), then=Value(score))
        for names, score in ((correction.exact, 3.0), (correction.corrected, 2.0))
        if names
    ]
    if not whens:
        return similarity
    return Case(*whens, default=similarity, output_field=FloatField())


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField(
        "MRN", max_length=16, unique=True, editable=False, help_text="Assigned by the server."
    )
    # The patient's id in the system a bulk import came from (upsert matches on it).
    external_id = models.CharField(  # noqa: DJ001 (NULL = none; the unique constraint skips it)
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text="The source system's id, kept by bulk imports; unique when given.",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    # NULL, not "", means "no email": the unique index then ignores patients without one.
    email = models.EmailField(  # noqa: DJ001
        null=True, blank=True, help_text="Unique when given; stored lower-case."
    )
    phone = models.CharField(  # noqa: DJ001 (null = unknown, returned as null by the API)
        max_length=16, null=True, blank=True, help_text="E.164, e.g. +14155552671."
    )
    # Lower-cased "first last mrn email": what fuzzy search matches (trigram index on PG).
    search_document = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(email__isnull=False),
                name=EMAIL_UNIQUE,
                violation_error_message="A patient with this email already exists.",
            ),
            models.CheckConstraint(
                condition=Q(gender__in=[g.value for g in Gender]), name="patients_gender_valid"
            ),
            # A constraint rather than unique=True: no extra LIKE index for an identifier.
            models.UniqueConstraint(fields=["external_id"], name="patients_external_id_unique"),
        ]
        indexes = [
            # The list's default order to its tie-breaker: cursor pages and deep OFFSET
            # pages (ids read from the index alone) are served by it.
            models.Index(fields=["last_name", "first_name", "id"], name="patients_name_id_idx"),
            # Search matches a corrected first name alone (patients.name_words).
            models.Index(fields=["first_name"], name="patients_first_name_idx"),
            models.Index(fields=["date_of_birth"], name="patients_dob_idx"),
            models.Index(fields=["created_at"], name="patients_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.mrn} {self.last_name}, {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def latest_outcome(self) -> Any:
        """The outcome of the patient's most recent current interaction, or None (from
        :class:`LatestOutcome`; select ``latest__outcome`` with the patient)."""
        latest = self._latest()
        return latest.outcome if latest is not None else None

    @property
    def latest_outcome_at(self) -> datetime | None:
        latest = self._latest()
        return latest.occurred_at if latest is not None else None

    def _latest(self) -> LatestOutcome | None:
        try:
            return self.latest
        except LatestOutcome.DoesNotExist:
            return None

    def earliest_clinical_time(self) -> datetime:
        """No clinical event of this patient happened before this instant: the start of
        their birth day in ``CLINIC_TIME_ZONE`` (1900-01-01 when the date is unknown)."""
        day: date | str | None = self.date_of_birth
        if isinstance(day, str):  # assigned but not yet read back from the database
            day = date.fromisoformat(day)
        return earliest_clinical_time_of(day)

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def clean(self) -> None:
        """Normalise and check the demographics (reported field by field)."""
        errors: dict[str, list[ValidationError]] = {}
        self.first_name = (self.first_name or "").strip()
        self.last_name = (self.last_name or "").strip()
        for name in ("first_name", "last_name"):
            if not getattr(self, name):
                errors.setdefault(name, []).append(
                    ValidationError("This field may not be blank.", code=CoreErrorCode.BLANK)
                )
        if self.email is not None:
            self.email = self.email.strip().lower() or None
        try:
            self.phone = clean_phone(self.phone)
        except ValidationError as exc:
            errors.setdefault("phone", []).append(exc)
        if self.date_of_birth:
            problem = date_of_birth_error(self.date_of_birth, today=timezone.localdate())
            if problem is not None:
                errors.setdefault("date_of_birth", []).append(problem)
        if errors:
            raise ValidationError(errors)
        self.refresh_search_document()

    def refresh_search_document(self) -> None:
        """What fuzzy search matches; call after the names, MRN or email change."""
        self.search_document = search_document_of(
            self.first_name, self.last_name, self.mrn, self.email
        )


def earliest_clinical_time_of(born: date | None) -> datetime:
    """:meth:`Patient.earliest_clinical_time` for a date of birth (bulk imports call it
    without building a model instance per patient)."""
    day = born or EARLIEST_CLINICAL_DATE
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.CLINIC_TIME_ZONE))


def date_of_birth_error(born: date, *, today: date) -> ValidationError | None:
    """The birthday rule of :meth:`Patient.clean` (not in the future, at most
    ``MAX_AGE_YEARS`` ago), as the error to report or ``None``. Bulk imports call it with
    one ``today`` for the whole file."""
    if born > today:
        return ValidationError("Date of birth cannot be in the future.", code=CoreErrorCode.FUTURE)
    if born < today - timedelta(days=int(MAX_AGE_YEARS * 365.25)):
        return ValidationError(
            f"Date of birth cannot be more than {MAX_AGE_YEARS} years ago.",
            code=PatientErrorCode.TOO_OLD,
        )
    return None


def search_document_of(first_name: str, last_name: str, mrn: str, email: str | None) -> str:
    """What fuzzy search matches: lower-cased "first last mrn email"."""
    return " ".join(part for part in (first_name, last_name, mrn, email or "") if part).lower()


class NameWord(models.Model):
    """A first or last name some patient has (or had): the dictionary search corrects
    query words against. Written by database triggers only (``patients.name_words``)."""

    word = models.CharField(max_length=100, help_text="The name lower-cased: the lookup key.")
    name = models.CharField(max_length=100, help_text="The name as stored on the patient.")

    class Meta:
        constraints = [
            # Also the index of the lookup by word (its leading column).
            models.UniqueConstraint(fields=["word", "name"], name="patients_nameword_unique")
        ]

    def __str__(self) -> str:
        return self.name


class MrnSequence(models.Model):
    """A single-row counter for MRNs, locked with SELECT ... FOR UPDATE while assigning."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "MRN sequence"

    def __str__(self) -> str:
        return f"MRN sequence at {self.last_value}"


class LatestOutcome(models.Model):
    """The outcome of a patient's most recent current interaction, kept up to date by the
    interaction services (``interactions.services.refresh_latest_outcome``) and the
    interaction import; no row while the patient has no current interaction.

    A table of its own rather than two columns of ``patients_patient``: a patient row
    carries ten indexes (the trigram GIN index among them), and every change of an
    indexed column rewrites all of them. Recording an interaction, and importing
    100,000 of them, then updated the wide, heavily indexed row; here it upserts a
    narrow row with two indexes. Patient reads join it (one primary-key lookup).
    """

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, primary_key=True, related_name="latest"
    )
    outcome = models.ForeignKey(
        "outcomes.Outcome",
        on_delete=models.PROTECT,
        related_name="+",
        # Indexed in Meta.indexes: a plain B-tree, without the varchar_pattern_ops twin
        # Django adds for a character key (no query matches outcome codes with LIKE).
        db_index=False,
    )
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["outcome"], name="patients_latest_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.patient_id}: {self.outcome_id} at {self.occurred_at:%Y-%m-%d %H:%M}"
