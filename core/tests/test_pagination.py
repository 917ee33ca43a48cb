"""List pagination: cursor links, page numbers, and counts that may be estimates."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core import pagination
from patients.models import Patient
from patients.tests.factories import PatientFactory

URL = "/api/v1/patients/"
LAST_NAMES = ["Novak", "Okafor", "Petrov"]


@pytest.fixture
def patients(db) -> list[Patient]:
    # Ties on last name (and on first name within it) so the tie-breaker matters.
    return [
        PatientFactory.create(last_name=LAST_NAMES[i % 3], first_name=f"P{i % 2}")
        for i in range(13)
    ]


def walk(client: APIClient, url: str, link: str = "next") -> list[list[str]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([p["id"] for p in body["results"]])
        url = body[link]
    return pages


@pytest.mark.parametrize("ordering", [None, "-last_name", "first_name,-date_of_birth", "-mrn"])
def test_cursor_links_walk_forwards_and_back_over_the_same_pages(
    viewer_client: APIClient, patients, ordering: str | None
) -> None:
    query = f"?page_size=4{f'&ordering={ordering}' if ordering else ''}"
    forwards = walk(viewer_client, URL + query)
    assert [len(p) for p in forwards] == [4, 4, 4, 1]
    every = [pid for page in forwards for pid in page]
    assert len(set(every)) == 13
    # The same rows as the page-number pages, in the same order.
    by_number = [
        [p["id"] for p in viewer_client.get(f"{URL}{query}&page={n}").json()["results"]]
        for n in range(1, 5)
    ]
    assert by_number == forwards
    # Following next gives cursor links; previous from the last page walks back.
    body = viewer_client.get(URL + query).json()
    assert "cursor=" in body["next"] and "page=" not in body["next"]
    last = viewer_client.get(body["next"]).json()
    while last["next"]:
        last = viewer_client.get(last["next"]).json()
    backwards = walk(viewer_client, last["previous"], "previous")
    assert backwards == forwards[:-1][::-1]


def test_rows_added_while_walking_do_not_repeat_a_row(viewer_client: APIClient, patients) -> None:
    first = viewer_client.get(f"{URL}?page_size=5").json()
    PatientFactory.create(last_name="Aardvark")  # sorts before every row shown
    second = viewer_client.get(first["next"]).json()
    shown = {p["id"] for p in first["results"]}
    assert not shown & {p["id"] for p in second["results"]}
    assert len(second["results"]) == 5


@pytest.mark.parametrize(
    "query",
    ["cursor=nonsense", "cursor=", "cursor=W10", "page=2&cursor=x"],
)
def test_a_bad_cursor_is_400(viewer_client: APIClient, patients, query: str) -> None:
    response = viewer_client.get(f"{URL}?{query}")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_ordering_is_400(viewer_client: APIClient, patients) -> None:
    following = viewer_client.get(f"{URL}?page_size=4&ordering=mrn").json()["next"]
    response = viewer_client.get(following.replace("ordering=mrn", "ordering=-mrn"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_ranked_search_results_page_by_number(viewer_client: APIClient, patients) -> None:
    body = viewer_client.get(f"{URL}?search=novak&page_size=2").json()
    assert body["count"] == 5
    assert "page=2" in body["next"]
    cursor = viewer_client.get(f"{URL}?page_size=2").json()["next"].split("cursor=")[1]
    response = viewer_client.get(f"{URL}?search=novak&cursor={cursor}")
    assert response.status_code == 400


def test_a_deep_offset_page_reads_the_same_rows(
    viewer_client: APIClient, patients, monkeypatch: pytest.MonkeyPatch
) -> None:
    shallow = viewer_client.get(f"{URL}?page=3&page_size=4").json()
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_OFFSET", 1)
    deep = viewer_client.get(f"{URL}?page=3&page_size=4").json()
    assert deep == shallow


def test_counts_are_exact_below_the_limit(viewer_client: APIClient, patients, settings) -> None:
    settings.PAGINATION_EXACT_COUNT_LIMIT = 13
    if connection.vendor == "postgresql":
        # Fresh statistics: an earlier test's rolled-back rows may have been counted by
        # autovacuum meanwhile (in-progress inserts count as live), leaving reltuples high.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE patients_patient")
    body = viewer_client.get(URL).json()
    assert (body["count"], body["count_is_estimate"]) == (13, False)
    body = viewer_client.get(f"{URL}?search=novak").json()
    assert body["count_is_estimate"] is False


@pytest.mark.postgres
def test_postgres_estimates_counts_above_the_limit(
    viewer_client: APIClient, patients, settings
) -> None:
    settings.PAGINATION_EXACT_COUNT_LIMIT = 5
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")  # what autovacuum does: reltuples
    body = viewer_client.get(f"{URL}?page_size=4").json()
    assert body["count_is_estimate"] is True
    assert body["count"] == 13  # pg_class.reltuples, fresh after ANALYZE
    assert len(body["results"]) == 4 and body["next"]
    filtered = viewer_client.get(f"{URL}?search=p0").json()
    assert filtered["count_is_estimate"] is True
    assert filtered["count"] >= 6  # never below the limit + 1, whatever the planner says
    small = viewer_client.get(f"{URL}?search=novak").json()
    assert (small["count"], small["count_is_estimate"]) == (5, False)
