"""The cyclic garbage collector is off while a file is parsed and its patients imported,
and back in its former state afterwards, whatever happens."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from core.actors import system_actor
from transfers import formats, importing
from transfers.formats import ParsedFile
from transfers.gcpause import gc_paused
from transfers.importing import ImportOptions


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_pauses_nest_and_restore_the_former_state() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()  # it was off before: it stays off


def test_an_exception_ends_the_pause() -> None:
    with pytest.raises(ValueError, match="inside"), gc_paused():
        raise ValueError("inside")
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_switch_it_on_after_the_last() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread's pause is still running
    release.set()
    thread.join()
    assert gc.isenabled()


@pytest.mark.django_db
def test_parsing_and_importing_run_with_the_collector_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, bool]] = []
    parse_csv = formats._parse_csv

    def spy(text: str) -> ParsedFile:
        seen.append(("parse", gc.isenabled()))
        return parse_csv(text)

    monkeypatch.setattr(formats, "_parse_csv", spy)
    parsed = formats.parse(b"first_name,last_name,date_of_birth\nAnn,Lee,1980-01-01\n")
    report = importing.import_patients(
        parsed,
        ImportOptions(dry_run=True),
        progress=lambda done: seen.append(("import", gc.isenabled())),
    )

    assert report.created == 1
    assert seen and all(not enabled for _, enabled in seen)
    assert {kind for kind, _ in seen} == {"parse", "import"}
    assert gc.isenabled()


@pytest.mark.django_db
def test_an_interaction_import_runs_with_the_collector_off() -> None:
    from appointments.tests.factories import PatientFactory

    patient = PatientFactory.create()
    parsed = formats.parse(
        f"patient_id,outcome,occurred_at\n{patient.pk},healthy,2024-05-01T10:00:00Z\n".encode()
    )
    seen: list[bool] = []
    report = importing.import_interactions(
        parsed,
        ImportOptions(dry_run=True),
        actor=system_actor(),
        progress=lambda done: seen.append(gc.isenabled()),
    )

    assert report.created == 1
    assert seen and not any(seen)
    assert gc.isenabled()
