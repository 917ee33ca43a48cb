"""Where a patient-list request spends its time, in-process (cProfile, top 25 by own time).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_full \\
        .venv/bin/python bench/profiles/profile_list.py [URL] > bench/profiles/patient_list.txt

Runs the request through Django's test client 200 times (after a warm-up) as a Provider
with a real token, on the benchmark database, with the production middleware stack.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench_full"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402
from knox.models import AuthToken  # noqa: E402


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "/api/v1/patients/?page_size=20"
    user = User.objects.filter(groups__name="Provider").first()
    _, token = AuthToken.objects.create(user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    for _ in range(20):
        assert client.get(url).status_code == 200
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(200):
        client.get(url)
    profile.disable()
    elapsed = (time.perf_counter() - started) / 200 * 1000
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
    print(f"{url}: {elapsed:.1f} ms per request (wall, profiled)\n")
    print(out.getvalue())


if __name__ == "__main__":
    main()
