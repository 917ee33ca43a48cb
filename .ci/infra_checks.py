"""Project-specific checks of the deployment files that no schema can express.

Run by .ci/validate-infra with the tools venv's Python (needs PyYAML only):

    python .ci/infra_checks.py compose|dockerfile|workflow|env|k8s RENDERED.yaml...

Each sub-command prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT_ROLES = {"api", "serve", "worker", "beat", "bootstrap", "runserver", "pytest"}
# Compose-only: read by the postgres image of the `db` service, not by the application.
COMPOSE_ONLY_VARS = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
# Set by the image (Dockerfile ENV), so not part of .env.example.
IMAGE_VARS = {"DJANGO_SETTINGS_MODULE"}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_all(paths: Iterable[Path]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in paths:
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def env_example_vars() -> list[str]:
    names = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.append(match.group(1))
    return names


def pinned(image: str) -> bool:
    """An image reference with an explicit tag that names a version (or a digest)."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag != "latest" and any(c.isdigit() for c in tag)


# --- compose ------------------------------------------------------------------------------
def merge_compose(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Compose's own merge, as far as these checks need: services merged key by key."""
    merged = {**base, "services": {k: dict(v) for k, v in base["services"].items()}}
    for name, service in override.get("services", {}).items():
        merged["services"].setdefault(name, {}).update(service)
    merged["volumes"] = {**base.get("volumes", {}), **override.get("volumes", {})}
    return merged


def check_compose_file(label: str, compose: dict[str, Any]) -> Iterator[str]:
    services: dict[str, dict[str, Any]] = compose["services"]
    volumes = set(compose.get("volumes") or {})
    for required in ("db", "redis", "api", "worker", "beat"):
        if required not in services:
            yield f"{label}: service '{required}' is missing"
    for name, service in services.items():
        image = service.get("image", "")
        if "build" not in service and not pinned(image):
            yield f"{label}: {name}: third-party image '{image}' is not pinned to a version"
        for dep, spec in (service.get("depends_on") or {}).items():
            if dep not in services:
                yield f"{label}: {name} depends on unknown service '{dep}'"
            elif spec.get("condition") == "service_healthy" and not services[dep].get(
                "healthcheck"
            ):
                yield f"{label}: {name} waits for '{dep}' to be healthy, but it has no healthcheck"
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source")
            if source and not source.startswith((".", "/")) and source not in volumes:
                yield f"{label}: {name} mounts undeclared volume '{source}'"
        for env_file in service.get("env_file") or []:
            entry = {"path": env_file} if isinstance(env_file, str) else env_file
            if entry.get("required", True) and not (ROOT / entry["path"]).exists():
                yield f"{label}: {name}: required env_file '{entry['path']}' does not exist"
        command: list[str] = service.get("command") or []
        if "build" in service and command and command[0] not in ENTRYPOINT_ROLES:
            yield f"{label}: {name}: command '{command[0]}' is not an entrypoint role"
    api = services.get("api", {})
    if not api.get("healthcheck"):
        yield f"{label}: api has no healthcheck"
    if api.get("ports"):
        yield f"{label}: api publishes ports; clients must come through the nginx proxy"
    proxy = services.get("proxy", {})
    if not str(proxy.get("image", "")).startswith("nginx:"):
        yield f"{label}: no `proxy` service running the official nginx image"
    elif not any(
        str(m).startswith("./deploy/k8s/base/nginx/nginx.conf:") for m in proxy.get("volumes", [])
    ):
        yield f"{label}: proxy does not mount deploy/k8s/base/nginx/nginx.conf"
    limit = nginx_body_limit_mb()
    upload = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.startswith("NOTES_MAX_UPLOAD_MB=")
    ).get("NOTES_MAX_UPLOAD_MB")
    if limit is None or upload is None or limit <= int(upload):
        yield f"{label}: nginx client_max_body_size must exceed NOTES_MAX_UPLOAD_MB"


def cmd_compose() -> Iterator[str]:
    base = load_yaml(ROOT / "docker-compose.yml")
    override = load_yaml(ROOT / "docker-compose.override.yml")
    yield from check_compose_file("docker-compose.yml", base)
    yield from check_compose_file("base+override", merge_compose(base, override))
    if base["services"]["api"].get("build", {}).get("target") != "production":
        yield "docker-compose.yml: api must build the production target"
    dev_target = override["services"].get("api", {}).get("build", {}).get("target")
    if dev_target not in {"dev", "test"}:
        yield "docker-compose.override.yml: api must build the dev (or test) target"


# --- Dockerfile ---------------------------------------------------------------------------
def dockerfile_stages(text: str) -> dict[str, list[str]]:
    """Instructions per stage name, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages: dict[str, list[str]] = {}
    current = ""
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            current = match.group(1) or f"stage{len(stages)}"
            stages[current] = []
        elif current:
            stages[current].append(line)
    return stages


def cmd_dockerfile() -> Iterator[str]:
    text = (ROOT / "Dockerfile").read_text()
    stages = dockerfile_stages(text)
    names = list(stages)
    if not names or names[-1] != "production":
        yield "Dockerfile: the last (default) stage must be 'production'"
    if "dev" not in stages and "test" not in stages:
        yield "Dockerfile: no 'dev' or 'test' target for running the tests in a container"
    if not re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", text, re.MULTILINE):
        yield "Dockerfile: base image must be python:3.11.<patch>-slim-<debian> (pinned)"
    final = " \n".join(stages.get("runtime", []) + stages.get("production", []))
    for compiler in ("build-essential", "gcc", "libpq-dev"):
        if re.search(rf"\b{compiler}\b", final):
            yield f"Dockerfile: '{compiler}' is installed in the final image"
    if "tesseract-ocr" not in final:
        yield "Dockerfile: tesseract-ocr is not installed in the final image"
    production = stages.get("production", [])
    users = [line.split()[1] for line in production if line.upper().startswith("USER ")]
    if not users or users[-1].split(":")[0] in {"0", "root"}:
        yield "Dockerfile: the production stage does not end as a non-root USER"
    for instruction in ("HEALTHCHECK", "ENTRYPOINT", "CMD"):
        if not any(line.upper().startswith(instruction + " ") for line in production):
            yield f"Dockerfile: production stage has no {instruction}"
    if not any("collectstatic" in line for line in production):
        yield "Dockerfile: static files are not collected at build time"
    env_lines = " ".join(line for line in stages.get("runtime", []) if line.startswith("ENV "))
    for var in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"):
        if var not in env_lines:
            yield f"Dockerfile: runtime stage does not set {var}"
    if re.search(r"^ENV .*DJANGO_SECRET_KEY", text, re.MULTILINE):
        yield "Dockerfile: DJANGO_SECRET_KEY must not be baked into the image environment"
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    wanted = [".venv", ".git", "media", "db.sqlite3", "**/__pycache__", ".mypy_cache"]
    for entry in [*wanted, "staticfiles", ".env"]:
        if entry not in ignored:
            yield f".dockerignore: '{entry}' is not excluded"


# --- workflow -----------------------------------------------------------------------------
def cmd_workflow() -> Iterator[str]:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "ci.yml")
    # YAML 1.1 reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True)) or {}
    for event in ("push", "pull_request"):
        if event not in triggers:
            yield f"ci.yml: not triggered on {event}"
    uses: list[str] = []
    runs: list[str] = []
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "uses" in step:
                uses.append(step["uses"])
            runs.append(step.get("run", ""))
    for action in uses:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", action):
            yield f"ci.yml: action '{action}' is not pinned to a version tag or commit"
    script = "\n".join(runs)
    # One list of steps: every Make target and .ci script that .ci/run runs, the hosted
    # workflow runs too.
    ci_run = (ROOT / ".ci" / "run").read_text()
    needed = [f"make {t}" for t in re.findall(r"make --no-print-directory ([\w.-]+)", ci_run)]
    needed += re.findall(r"(\.ci/[\w-]+)", ci_run.split("for extra in", 1)[-1].split(";")[0])
    if len(needed) < 8:
        yield f".ci/run: expected its steps as Make targets, found {needed}"
    for step in needed:
        if step not in script:
            yield f"ci.yml: no step runs '{step}' (a step of .ci/run)"
    if not any(action.startswith("docker/build-push-action@") for action in uses):
        yield "ci.yml: the Docker image is not built (docker/build-push-action)"


# --- environment documentation ------------------------------------------------------------
def settings_env_vars() -> set[str]:
    pattern = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
    names: set[str] = set()
    for path in sorted((ROOT / "config" / "settings").glob("*.py")):
        names.update(pattern.findall(path.read_text()))
    return names


def configuration_section(markdown: str) -> str:
    match = re.search(r"^## Configuration\b.*?(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    return match.group(0) if match else ""


def cmd_env() -> Iterator[str]:
    example = env_example_vars()
    seen: set[str] = set()
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if not match:
            continue
        name = match.group(1)
        if name in seen:
            yield f".env.example: {name} is defined twice"
        seen.add(name)
        if index == 0 or not lines[index - 1].startswith("#"):
            yield f".env.example: {name} has no comment line above it"
    docs_path = ROOT / "docs" / "deployment.md"
    section = configuration_section(docs_path.read_text()) if docs_path.exists() else ""
    if not section:
        yield "docs/deployment.md: no '## Configuration' section"
    for name in example:
        if not re.search(rf"`{name}`", section):
            yield f"docs/deployment.md: {name} (in .env.example) is not under Configuration"
    for name in sorted(settings_env_vars() - set(example) - IMAGE_VARS):
        yield f".env.example: {name} is read by config/settings but not listed"


# --- Kubernetes ---------------------------------------------------------------------------
def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        spec: dict[str, Any] = doc["spec"]["template"]["spec"]
        return spec
    return None


def probe_path(container: dict[str, Any], probe: str) -> str | None:
    path: str | None = container.get(probe, {}).get("httpGet", {}).get("path")
    return path


def check_k8s(label: str, docs: list[dict[str, Any]], production: bool) -> Iterator[str]:
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    for kind in ("Deployment", "Service", "Ingress", "Job", "ConfigMap"):
        if kind not in by_kind:
            yield f"{label}: no {kind}"
    if "StatefulSet" in by_kind:
        yield f"{label}: StatefulSets found; PostgreSQL and Redis are managed services"
    deployments = by_kind.get("Deployment", {})
    for name in ("clinic-api", "clinic-worker", "clinic-beat"):
        if name not in deployments:
            yield f"{label}: Deployment {name} is missing"
    configmaps = set(by_kind.get("ConfigMap", {}))
    secret_names = {
        doc["metadata"]["name"]
        for doc in load_all([ROOT / "deploy" / "k8s" / "base" / "secret.example.yaml"])
    }
    for doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        where = f"{label}: {doc['kind']} {doc['metadata']['name']}"
        pod_ctx = spec.get("securityContext", {})
        for container in spec.get("containers", []):
            ctx = container.get("securityContext", {})
            cname = f"{where}/{container['name']}"
            if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")):
                yield f"{cname}: runAsNonRoot is not set"
            if ctx.get("allowPrivilegeEscalation") is not False:
                yield f"{cname}: allowPrivilegeEscalation is not false"
            if ctx.get("readOnlyRootFilesystem") is not True:
                yield f"{cname}: readOnlyRootFilesystem is not true"
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                for key in ("cpu", "memory"):
                    if key not in resources.get(part, {}):
                        yield f"{cname}: resources.{part}.{key} missing"
            if production and not pinned(container["image"]):
                yield f"{cname}: image '{container['image']}' has no version tag"
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            if "/tmp" not in mounts:  # noqa: S108  # nosec B108 - checks a manifest, writes nothing
                yield f"{cname}: no writable /tmp volume on a read-only root filesystem"
            for source in container.get("envFrom", []):
                if "configMapRef" in source and source["configMapRef"]["name"] not in configmaps:
                    yield f"{cname}: unknown ConfigMap {source['configMapRef']['name']}"
                if "secretRef" in source and source["secretRef"]["name"] not in secret_names:
                    yield f"{cname}: Secret {source['secretRef']['name']} has no template"
    api = deployments.get("clinic-api")
    if api:
        container = api["spec"]["template"]["spec"]["containers"][0]
        if probe_path(container, "readinessProbe") != "/health/ready":
            yield f"{label}: api readinessProbe must GET /health/ready"
        if probe_path(container, "livenessProbe") != "/health":
            yield f"{label}: api livenessProbe must GET /health"
        yield from check_api_proxy(label, api, by_kind)
    beat = deployments.get("clinic-beat")
    if beat:
        if beat["spec"].get("replicas") != 1:
            yield f"{label}: beat must run exactly one replica"
        if beat["spec"].get("strategy", {}).get("type") != "Recreate":
            yield f"{label}: beat must use the Recreate strategy"
    hpas = by_kind.get("HorizontalPodAutoscaler", {})
    for target in ("clinic-api", "clinic-worker"):
        if not any(h["spec"]["scaleTargetRef"]["name"] == target for h in hpas.values()):
            yield f"{label}: no HorizontalPodAutoscaler for {target}"
    for hpa in hpas.values():
        if hpa["apiVersion"] != "autoscaling/v2":
            yield f"{label}: HPA {hpa['metadata']['name']} is not autoscaling/v2"
        if hpa["spec"]["scaleTargetRef"]["name"] not in deployments:
            yield f"{label}: HPA {hpa['metadata']['name']} targets an unknown Deployment"
        # An External metric must be one the application exports, or the HPA waits on
        # a series that never appears.
        exported = set(
            re.findall(r'"(clinic_[a-z_]+)"', (ROOT / "core" / "metrics.py").read_text())
        )
        for metric in hpa["spec"].get("metrics", []):
            if metric.get("type") == "External":
                name = metric["external"]["metric"]["name"]
                if name not in exported:
                    yield f"{label}: HPA {hpa['metadata']['name']} scales on {name}, not exported"
    worker_hpas = [
        h for h in hpas.values() if h["spec"]["scaleTargetRef"]["name"] == "clinic-worker"
    ]
    if worker_hpas and not any(
        m.get("type") == "External"
        and m["external"]["metric"]["name"] == "clinic_celery_queue_length"
        for h in worker_hpas
        for m in h["spec"].get("metrics", [])
    ):
        yield f"{label}: the worker HPA must scale on clinic_celery_queue_length"
    for service in by_kind.get("Service", {}).values():
        selector = service["spec"].get("selector", {})
        if not any(
            selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
            for d in deployments.values()
        ):
            yield f"{label}: Service {service['metadata']['name']} selects no Deployment's pods"
    # Every variable the pods receive is a documented one, and the reverse.
    known = set(env_example_vars()) | IMAGE_VARS
    provided: set[str] = set()
    # Only ConfigMaps that become environment variables (envFrom); clinic-nginx is a file.
    env_configmaps = {
        source["configMapRef"]["name"]
        for deployment in deployments.values()
        for container in deployment["spec"]["template"]["spec"]["containers"]
        for source in container.get("envFrom", [])
        if "configMapRef" in source
    }
    for name, configmap in by_kind.get("ConfigMap", {}).items():
        if any(name == base or name.startswith(f"{base}-") for base in env_configmaps):
            provided.update(configmap.get("data", {}))
    for secret in load_all([ROOT / "deploy" / "k8s" / "base" / "secret.example.yaml"]):
        provided.update(secret.get("stringData", {}))
    # Variables set per container (e.g. POD_IP from the downward API).
    for deployment in deployments.values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            provided.update(item["name"] for item in container.get("env", []))
    for name in sorted(provided - known):
        yield f"{label}: {name} is configured for the pods but not in .env.example"
    for name in sorted(known - provided - COMPOSE_ONLY_VARS):
        yield f"{label}: {name} (in .env.example) is not configured for the pods"


NGINX_CONF = ROOT / "deploy" / "k8s" / "base" / "nginx" / "nginx.conf"


def nginx_body_limit_mb() -> int | None:
    match = re.search(r"^\s*client_max_body_size\s+(\d+)m;", NGINX_CONF.read_text(), re.M)
    return int(match.group(1)) if match else None


def check_api_proxy(
    label: str, api: dict[str, Any], by_kind: dict[str, dict[str, dict[str, Any]]]
) -> Iterator[str]:
    """The api pods take traffic through the nginx sidecar, configured from the repo file."""
    spec = api["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    nginx = containers.get("nginx")
    if nginx is None:
        yield f"{label}: clinic-api has no nginx sidecar in front of gunicorn"
        return
    if not nginx["image"].startswith("nginx:"):
        yield f"{label}: the nginx sidecar must use the official nginx image"
    if not any(
        a.get("ip") == "127.0.0.1" and "api" in a.get("hostnames", [])
        for a in spec.get("hostAliases", [])
    ):
        yield f"{label}: clinic-api needs hostAliases api -> 127.0.0.1 (the nginx upstream)"
    ports = {p["name"]: p["containerPort"] for p in nginx.get("ports", [])}
    service = by_kind.get("Service", {}).get("clinic-api", {})
    targets = {p.get("targetPort") for p in service.get("spec", {}).get("ports", [])}
    if not targets or not targets <= set(ports):
        yield f"{label}: Service clinic-api must target the nginx sidecar's port"
    if "listen 8080;" not in NGINX_CONF.read_text() or 8080 not in ports.values():
        yield f"{label}: the nginx sidecar must listen on 8080 as nginx.conf says"
    configmaps = {name for name in by_kind.get("ConfigMap", {}) if name.startswith("clinic-nginx")}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounted = [
        m for m in nginx.get("volumeMounts", []) if m["mountPath"] == "/etc/nginx/nginx.conf"
    ]
    source = (
        volumes.get(mounted[0]["name"], {}).get("configMap", {}).get("name") if mounted else None
    )
    if source not in configmaps:
        yield f"{label}: the nginx sidecar does not mount nginx.conf from clinic-nginx"
    ingress = by_kind.get("Ingress", {}).get("clinic-api", {})
    ingress_limit = (ingress.get("metadata", {}).get("annotations") or {}).get(
        "nginx.ingress.kubernetes.io/proxy-body-size", ""
    )
    if ingress_limit != f"{nginx_body_limit_mb()}m":
        yield f"{label}: nginx.conf client_max_body_size differs from the ingress proxy-body-size"


def cmd_k8s(paths: list[str]) -> Iterator[str]:
    for raw in paths:
        path = Path(raw)
        yield from check_k8s(path.name, load_all([path]), production="production" in path.name)


def main(argv: list[str]) -> int:
    commands = {
        "compose": lambda: cmd_compose(),
        "dockerfile": lambda: cmd_dockerfile(),
        "workflow": lambda: cmd_workflow(),
        "env": lambda: cmd_env(),
        "k8s": lambda: cmd_k8s(argv[2:]),
    }
    if len(argv) < 2 or argv[1] not in commands:
        say(f"usage: {argv[0]} {{{'|'.join(commands)}}} [files...]")
        return 2
    problems = list(commands[argv[1]]())
    for problem in problems:
        say(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
