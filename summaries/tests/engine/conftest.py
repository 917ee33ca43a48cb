"""Fixtures for the engine tests (no database needed)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from summaries.engine.record import PatientRecord
from summaries.tests.engine.sample import make_record
from summaries.tests.fake_openai import FakeOpenAI


@pytest.fixture
def record() -> PatientRecord:
    return copy.deepcopy(make_record())


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
