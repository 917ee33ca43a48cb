"""In-process A/B of one fast-path lever: the same requests, alternating blocks between
the lever off and on, in one process, so both see the same machine load.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench_small \\
        python bench/ab_request.py serializers [--blocks 8] [--per-block 60]

Uses ``profile_request.py``'s set-up (production settings, a Provider token, its request
lists) and prints, per scenario, the minimum and median over blocks of the CPU ms per
request with the lever off and on. On a shared machine the median of alternating blocks
is the figure to compare; single runs drift with the load. Levers:

* ``serializers``: Patient/AppointmentSerializer's written-out ``to_representation`` vs
  ``ModelSerializer``'s generic one;
* ``renderer``: ``core.renderers.JSONRenderer`` (orjson) vs DRF's ``JSONRenderer``;
* ``filterform``: ``core.filters.FilterSet``'s cached form class vs django-filter's
  per-request one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.profile_request as pr  # sets up Django under production settings


def levers() -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """Lever name -> (switch off, switch on)."""
    import django_filters
    from rest_framework import renderers, serializers
    from rest_framework.settings import api_settings

    import core.filters
    import core.renderers
    from appointments.api.serializers import AppointmentSerializer
    from patients.api.serializers import PatientSerializer

    written = {
        cls: cls.__dict__["to_representation"] for cls in (PatientSerializer, AppointmentSerializer)
    }
    cached_form = core.filters.FilterSet.__dict__["get_form_class"]

    def serializers_off() -> None:
        for cls in written:
            cls.to_representation = serializers.ModelSerializer.to_representation  # type: ignore[method-assign]

    def serializers_on() -> None:
        for cls, method in written.items():
            cls.to_representation = method  # type: ignore[method-assign]

    def renderer(cls: type) -> Callable[[], None]:
        def switch() -> None:
            api_settings.DEFAULT_RENDERER_CLASSES[:] = [cls]  # type: ignore[index]

        return switch

    def filterform(method: object) -> Callable[[], None]:
        def switch() -> None:
            core.filters.FilterSet.get_form_class = method  # type: ignore[assignment,method-assign]

        return switch

    return {
        "serializers": (serializers_off, serializers_on),
        "renderer": (renderer(renderers.JSONRenderer), renderer(core.renderers.JSONRenderer)),
        "filterform": (
            filterform(django_filters.FilterSet.get_form_class),
            filterform(cached_form),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lever", choices=["serializers", "renderer", "filterform"])
    parser.add_argument("--scenarios", default="patient_by_id,patient_list,appointments_day")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--per-block", type=int, default=60)
    args = parser.parse_args()
    off, on = levers()[args.lever]
    client = pr.Client(HTTP_AUTHORIZATION=f"Bearer {pr.token()}")
    requests = pr.requests_for(Random(11))
    for key in args.scenarios.split(","):
        reqs = requests[key]
        cpu: dict[str, list[float]] = {"off": [], "on": []}
        for switch in (off, on):
            switch()
            for request in reqs[:20]:
                pr.send(client, request)
        for block in range(args.blocks):
            for name, switch in (("off", off), ("on", on)):
                switch()
                start = time.process_time()
                for n in range(args.per_block):
                    status = pr.send(client, reqs[(block * args.per_block + n) % len(reqs)])
                    assert status == 200, (key, status)
                cpu[name].append((time.process_time() - start) * 1000 / args.per_block)
        on()
        print(
            f"{args.lever} {key:<17} "
            + "  ".join(
                f"{name}: median {statistics.median(v):.2f} min {min(v):.2f} ms"
                for name, v in cpu.items()
            ),
            file=sys.stderr,
            flush=True,
        )


if __name__ == "__main__":
    main()
