"""A synthetic clinic for the benchmark, generated inside PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench python bench/dataset.py
    DATABASE_URL=... python bench/dataset.py --profile small      # 10,000 patients
    DATABASE_URL=... python bench/dataset.py --profile smoke      # a few hundred rows (CI)

Profiles (patients / doctors / appointments / interactions / notes):

* ``full``: 1,000,000 / 200 / 5,000,000 / 2,000,000 / 200,000
* ``small``: 10,000 / 50 / 2,000 / 20,000 / 2,000 (the issue's quick profile)
* ``smoke``: 300 / 5 / 200 / 300 / 30

``--only patients`` loads the doctors and patients of the profile and nothing else (what
the search benchmarks need, in a fraction of the time).

The database is migrated first; the clinical tables must be empty unless ``--reset``
truncates them (it refuses a database whose name does not start with ``clinic_bench``,
so it cannot wipe a real clinic). Rows are made by ``INSERT … SELECT`` over
``generate_series`` in the server (no Python loop, no round trip per row); secondary
indexes, foreign keys and exclusion constraints are dropped for the load and rebuilt once
afterwards from their own definitions (``pg_get_indexdef``/``pg_get_constraintdef``), so
the schema ends exactly as the migrations made it, and every constraint is validated
against the generated rows when it is re-created.

What the rows are like:

* patients: names drawn from 200 first and 200 last names (so search has realistic
  near-duplicates), MRNs from the same ``MRN-NNNNNN`` sequence the service uses (the
  counter is moved past them), 60 % with an email, 70 % with a phone, the maintained
  ``search_document`` column and the ``latest_outcome`` table filled as the services fill them;
* appointments: 20-minute slots on weekdays, 09:00-15:40 clinic time, over five years
  (four past, one ahead): past ones completed / cancelled / no-show, future ones
  scheduled or cancelled; no doctor or patient is ever double-booked (a slot's patient is
  a bijection of the slot number, distinct across doctors at the same time);
* interactions: spread over the past four years, outcome healthy / monitor / critical;
* notes: the demo clinic's note texts, read once by the real note engine
  (``analyze_note``) and stored with their sections and structured data.

Prints the time per step and the database size at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DB_POOL", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

PROFILES: dict[str, dict[str, int]] = {
    "full": {
        "patients": 1_000_000,
        "doctors": 200,
        "appointments": 5_000_000,
        "interactions": 2_000_000,
        "notes": 200_000,
    },
    "small": {
        "patients": 10_000,
        "doctors": 50,
        "appointments": 2_000,
        "interactions": 20_000,
        "notes": 2_000,
    },
    "smoke": {"patients": 300, "doctors": 5, "appointments": 200, "interactions": 300, "notes": 30},
}

FIRST_NAMES = (  # noqa: SIM905 - a word list reads best as text
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David "
    "Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa "
    "Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven "
    "Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian "
    "Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon "
    "Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley "
    "Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen "
    "Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel "
    "Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane "
    "Aaron Ruth Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria "
    "Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter Evelyn Noah Judith "
    "Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald "
    "Martha Harold Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison Lawrence "
    "Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy Alice Joe Julia "
    "Bruce Judy Gabriel Sophia Logan Grace Albert Denise Willie Amber Alan Doris Juan "
    "Marilyn Wayne Danielle Elijah Beverly Randy Isabella Roy Theresa Vincent Diana "
    "Ralph Natalie Eugene Brittany Russell Charlotte Bobby Marie Mason Kayla Philip "
    "Alexis Louis Lori Omar Layla Yusuf Amira Karim Leila Wei Mei Hiroshi Yuki Minh Linh "
    "Rahul Priya"
).split()[:200]
LAST_NAMES = (  # noqa: SIM905 - a word list reads best as text
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez "
    "Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King "
    "Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz "
    "Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz "
    "Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
    "Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez "
    "Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell "
    "Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons "
    "Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno "
    "West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford "
    "Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells "
    "Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter "
    "Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer "
    "Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt "
    "Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn "
    "Kelley Spencer Hawkins Arnold Pierce Hansen Haddad Okafor Kowalski Novak Yamamoto "
    "Tanaka"
).split()[:200]
SPECIALTIES = [
    "Family medicine",
    "Internal medicine",
    "Cardiology",
    "Paediatrics",
    "Dermatology",
    "Endocrinology",
    "Neurology",
    "Orthopaedics",
]

# Tables filled here, children first (truncate order); the load order is the reverse.
TABLES = [
    "notes_note",
    "interactions_interaction",
    "appointments_appointment",
    "patients_patient",
    "doctors_doctor",
]


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


class Loader:
    def __init__(self, sizes: dict[str, int], *, only_patients: bool = False) -> None:
        self.sizes = sizes
        self.only_patients = only_patients
        self.timings: list[tuple[str, float]] = []

    def step(self, label: str, sql: str, params: Any = None) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        elapsed = time.perf_counter() - started
        self.timings.append((label, elapsed))
        print(f"  {label:<44} {elapsed:7.1f} s", flush=True)

    # --- schema handling -------------------------------------------------------------
    def saved_definitions(self) -> tuple[list[tuple[str, str, str]], list[str]]:
        """Constraints (but primary keys) and standalone indexes of the loaded tables."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype <> 'p'
                ORDER BY c.contype = 'f', c.conname
                """,
                [TABLES],
            )
            constraints = [(t, n, d) for t, n, d in cursor.fetchall()]
            cursor.execute(
                """
                SELECT pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                """,
                [TABLES],
            )
            indexes = [row[0] for row in cursor.fetchall()]
        return constraints, indexes

    def drop(self, constraints: list[tuple[str, str, str]]) -> None:
        with connection.cursor() as cursor:
            # Foreign keys first: a unique constraint may be what one of them points at.
            for table, name, _definition in sorted(
                constraints, key=lambda c: not c[2].startswith("FOREIGN KEY")
            ):
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}"')
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                """,
                [TABLES],
            )
            for (index,) in cursor.fetchall():
                cursor.execute(f"DROP INDEX {index}")

    def restore(self, constraints: list[tuple[str, str, str]], indexes: list[str]) -> None:
        for definition in indexes:
            name = definition.split(" ON ")[0].rsplit(" ", 1)[-1]
            self.step(f"index {name}", definition)
        for table, name, definition in sorted(
            constraints, key=lambda c: c[2].startswith("FOREIGN KEY")
        ):
            self.step(
                f"constraint {name}", f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            )

    # --- rows ------------------------------------------------------------------------
    def load(self) -> None:
        n = self.sizes
        self.step(
            "doctors",
            f"""
            INSERT INTO doctors_doctor (id, full_name, specialty, email, phone, is_active,
                                        created_at, updated_at, user_id)
            SELECT gen_random_uuid(),
                   'Dr ' || ({sql_array(FIRST_NAMES)})[1 + (i * 37) % 200] || ' '
                         || ({sql_array(LAST_NAMES)})[1 + (i * 53) % 200],
                   ({sql_array(SPECIALTIES)})[1 + i % {len(SPECIALTIES)}],
                   'doctor' || i || '@clinic.example.org', NULL, true, now(), now(), NULL
            FROM generate_series(1, {n["doctors"]}) AS i
            """,
        )
        self.step(
            "patients",
            f"""
            INSERT INTO patients_patient (id, mrn, first_name, last_name, date_of_birth,
                gender, email, phone, search_document, created_at, updated_at)
            SELECT gen_random_uuid(), s.mrn, s.first_name, s.last_name, s.dob, s.gender,
                   s.email, s.phone,
                   lower(s.first_name || ' ' || s.last_name || ' ' || s.mrn
                         || coalesce(' ' || s.email, '')),
                   s.created, s.created
            FROM (
                SELECT i,
                       'MRN-' || lpad(i::text, greatest(6, length(i::text)), '0') AS mrn,
                       f.name AS first_name, l.name AS last_name,
                       date '1930-01-01' + ((i::bigint * 7919) % 32000)::int AS dob,
                       CASE WHEN i % 50 = 0 THEN 'other' WHEN i % 50 = 1 THEN 'unknown'
                            WHEN i % 2 = 0 THEN 'female' ELSE 'male' END AS gender,
                       CASE WHEN i % 10 < 6
                            THEN lower(f.name || '.' || l.name || '.' || i) || '@example.org'
                       END AS email,
                       CASE WHEN i % 10 < 7
                            THEN '+1415' || lpad(((i::bigint * 104729) % 10000000)::text, 7, '0')
                       END AS phone,
                       now() - make_interval(secs => (i::bigint * 613) % 126000000) AS created
                FROM generate_series(1, {n["patients"]}) AS i
                CROSS JOIN LATERAL (
                    SELECT ({sql_array(FIRST_NAMES)})[1 + (i * 31 + i / 200) % 200] AS name
                ) f
                CROSS JOIN LATERAL (
                    SELECT ({sql_array(LAST_NAMES)})[1 + (i * 17 + i / 40000) % 200] AS name
                ) l
            ) s
            """,
        )
        self.step(
            "MRN counter past the loaded MRNs",
            f"""
            INSERT INTO patients_mrnsequence (id, last_value) VALUES (1, {int(n["patients"])})
            ON CONFLICT (id) DO UPDATE SET last_value = GREATEST(
                patients_mrnsequence.last_value, EXCLUDED.last_value)
            """,
        )
        if self.only_patients:
            return
        # Numbered lookups for the bijections below.
        self.step(
            "numbered patients and doctors",
            """
            CREATE TEMP TABLE bench_p AS
                SELECT (row_number() OVER (ORDER BY mrn)) - 1 AS idx, id FROM patients_patient;
            CREATE UNIQUE INDEX ON bench_p (idx);
            CREATE TEMP TABLE bench_d AS
                SELECT (row_number() OVER (ORDER BY email)) - 1 AS idx, id FROM doctors_doctor;
            CREATE UNIQUE INDEX ON bench_d (idx);
            ANALYZE bench_p; ANALYZE bench_d;
            """,
        )
        slots_per_day = 20
        clinic_zone = ZoneInfo(settings.CLINIC_TIME_ZONE).key  # a real zone name, safe to inline
        self.step(
            "appointments",
            f"""
            WITH days AS (
                SELECT (row_number() OVER (ORDER BY day)) - 1 AS day_idx, day
                FROM generate_series(current_date - 1461, current_date + 365, interval '1 day')
                     AS day
                WHERE extract(isodow FROM day) < 6
            ), slots AS (
                SELECT d.idx AS doctor_idx, days.day_idx, days.day, s AS slot,
                       (days.day_idx * {slots_per_day} + s) * {n["doctors"]} + d.idx AS k
                FROM days CROSS JOIN generate_series(0, {slots_per_day - 1}) AS s
                CROSS JOIN bench_d d
                -- A scattered choice of slots (a multiplicative hash of the slot number),
                -- so even the small profile spans all five years.
                ORDER BY ((days.day_idx * {slots_per_day} + s) * {n["doctors"]} + d.idx)
                         * 2654435761 % 4294967291
                LIMIT {n["appointments"]}
            ), timed AS (
                SELECT slots.*,
                       (slots.day::date + time '09:00' + make_interval(mins => 20 * slot))
                           AT TIME ZONE '{clinic_zone}' AS start_time
                FROM slots
            )
            INSERT INTO appointments_appointment (id, start_time, duration_minutes, end_time,
                status, reason, cancellation_reason, cancelled_at, created_at, updated_at,
                created_by_id, doctor_id, patient_id)
            SELECT gen_random_uuid(), t.start_time, 20, t.start_time + interval '20 minutes',
                   CASE WHEN t.start_time < now() THEN
                            CASE WHEN t.k % 20 = 0 THEN 'cancelled'
                                 WHEN t.k % 20 = 1 THEN 'no_show' ELSE 'completed' END
                        ELSE CASE WHEN t.k % 20 = 0 THEN 'cancelled' ELSE 'scheduled' END
                   END,
                   (ARRAY['Follow-up','Check-up','Blood pressure review','New problem',
                          'Medication review'])[1 + t.k % 5],
                   CASE WHEN t.k % 20 = 0 THEN 'Patient request' ELSE '' END,
                   CASE WHEN t.k % 20 = 0 THEN t.start_time - interval '2 days' END,
                   t.start_time - interval '14 days', t.start_time - interval '14 days',
                   NULL, d.id, p.id
            FROM timed t
            JOIN bench_d d ON d.idx = t.doctor_idx
            JOIN bench_p p ON p.idx = (t.k * 7919) % {n["patients"]}
            """,
        )
        self.step(
            "interactions",
            f"""
            INSERT INTO interactions_interaction (id, notes, occurred_at, recorded_at, status,
                retraction_reason, retracted_at, amends_id, appointment_id, doctor_id,
                outcome_id, patient_id, recorded_by_id, retracted_by_id)
            SELECT gen_random_uuid(),
                   (ARRAY['', 'Seen in clinic.', 'Reviewed results.', 'Telephone follow-up.'])
                       [1 + i % 4],
                   now() - make_interval(secs => (i::bigint * 104723) % 126000000),
                   now() - make_interval(secs => (i::bigint * 104723) % 126000000),
                   'current', '', NULL, NULL, NULL, d.id,
                   CASE WHEN i % 10 < 6 THEN 'healthy' WHEN i % 10 < 9 THEN 'monitor'
                        ELSE 'critical' END,
                   p.id, NULL, NULL
            FROM generate_series(0, {n["interactions"] - 1}) AS i
            JOIN bench_p p ON p.idx = (i::bigint * 15485863) % {n["patients"]}
            JOIN bench_d d ON d.idx = i % {n["doctors"]}
            """,
        )
        self.step(
            "latest_outcome as the services keep it",
            """
            INSERT INTO patients_latestoutcome (patient_id, outcome_id, occurred_at)
            SELECT DISTINCT ON (patient_id) patient_id, outcome_id, occurred_at
            FROM interactions_interaction WHERE status = 'current'
            ORDER BY patient_id, occurred_at DESC, recorded_at DESC, id DESC
            """,
        )
        self.load_notes()

    def load_notes(self) -> None:
        from accounts.services import user_upsert
        from core.permissions import Role
        from notes.extraction.analyzer import analyze_note

        author = user_upsert(
            username="bench-author", role=Role.PROVIDER, password=os.urandom(16).hex()
        )
        texts = [
            p.read_text(encoding="utf-8")
            for p in sorted((ROOT / "fixtures" / "demo_notes").glob("*"))
            if p.suffix in {".txt", ".md"}
        ]
        templates = []
        for text in texts:
            analysis = analyze_note(text)
            templates.append(
                (
                    text,
                    analysis.note_type,
                    analysis.note_type_confidence,
                    json.dumps(analysis.sections) if analysis.sections is not None else None,
                    json.dumps(analysis.structured_data),
                )
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_note_t (idx int, content text, note_type text, "
                "confidence float, sections jsonb, structured jsonb)"
            )
            cursor.executemany(
                "INSERT INTO bench_note_t VALUES (%s, %s, %s, %s, %s, %s)",
                [(i, *t) for i, t in enumerate(templates)],
            )
        self.step(
            "notes (demo texts, read by the note engine)",
            f"""
            INSERT INTO notes_note (id, taken_at, note_type, note_type_source, client_note_type,
                note_type_confidence, content, content_source, sections, structured_data,
                status, extraction_status, extraction_error, revision, file, file_name,
                file_content_type, file_size, file_sha256, retracted_at, retraction_reason,
                created_at, updated_at, author_id, parent_id, patient_id, retracted_by_id)
            SELECT gen_random_uuid(),
                   now() - make_interval(secs => (i::bigint * 7727) % 126000000),
                   t.note_type, 'auto', '', t.confidence, t.content, 'typed', t.sections,
                   t.structured, CASE WHEN i % 3 = 0 THEN 'draft' ELSE 'signed' END, 'done', '',
                   1, '', '', '', NULL, '', NULL, '', now(), now(), {int(author.pk)}, NULL,
                   p.id, NULL
            FROM generate_series(0, {self.sizes["notes"] - 1}) AS i
            JOIN bench_p p ON p.idx = (i::bigint * 7919) % {self.sizes["patients"]}
            JOIN bench_note_t t ON t.idx = i % {len(templates)}
            """,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--reset", action="store_true", help="truncate the clinical tables")
    parser.add_argument("--nice", action="store_true", help="run the server process at nice 19")
    parser.add_argument(
        "--only",
        choices=["patients"],
        help="load only the doctors and patients (search benchmarks; minutes less)",
    )
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("bench/dataset.py needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    name = connection.settings_dict["NAME"]
    sizes = PROFILES[args.profile]
    print(f"dataset {args.profile!r} into {name}: {sizes}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM patients_patient")
        existing = cursor.fetchone()[0]
    if existing and not args.reset:
        print(f"{name} already holds {existing} patients; use --reset to replace them")
        return 2
    if args.reset:
        if not name.startswith("clinic_bench"):
            print(f"--reset only works on databases named clinic_bench*, not {name}")
            return 2
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")

    loader = Loader(sizes, only_patients=args.only == "patients")
    with connection.cursor() as cursor:
        if args.nice:
            # Lower the server process's CPU priority (same machine, same user as the
            # server only when run as root or as postgres): other work keeps the CPU.
            cursor.execute("SELECT pg_backend_pid()")
            subprocess.run(["renice", "-n", "19", "-p", str(cursor.fetchone()[0])], check=False)
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        cursor.execute("SET work_mem = '256MB'")
    constraints, indexes = loader.saved_definitions()
    loader.drop(constraints)
    loader.load()
    loader.restore(constraints, indexes)
    loader.step("VACUUM ANALYZE", "VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    print(f"done in {time.perf_counter() - started:.0f} s; database size {size}; rows {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
