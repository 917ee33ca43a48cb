"""Container health check: ``GET /health`` on the local server; exit 0 on HTTP 200.

Standard library only: the image has no curl. The request carries a Host header that
Django accepts (the first concrete name in ``DJANGO_ALLOWED_HOSTS``), because in
production 127.0.0.1 is usually not an allowed host and Django would answer 400.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def allowed_host() -> str:
    for raw in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = raw.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/health", headers={"Host": allowed_host()}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310 - http on loopback
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"healthcheck: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
