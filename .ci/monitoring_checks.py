"""Checks of deploy/monitoring/ that promtool cannot make on its own.

Run by .ci/check-monitoring with a Python that has PyYAML (the project's virtualenv):

    python .ci/monitoring_checks.py rules
    python .ci/monitoring_checks.py dashboard
    python .ci/monitoring_checks.py metrics
    python .ci/monitoring_checks.py scrape
    python .ci/monitoring_checks.py dashboard-as-rules OUT.yml   # for `promtool check rules`
    python .ci/monitoring_checks.py scrape-for-promtool OUT_DIR  # for `promtool check config`

Each check prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MONITORING = ROOT / "deploy" / "monitoring"
ALERTS = MONITORING / "alerts.yml"
ALERT_TESTS = (MONITORING / "alerts.test.yml", MONITORING / "alerts.week.test.yml")
DASHBOARD = MONITORING / "grafana-dashboard.json"
SCRAPE_K8S = MONITORING / "prometheus.yml"
SCRAPE_COMPOSE = MONITORING / "prometheus-compose.yml"
METRICS_SOURCE = ROOT / "core" / "metrics.py"

SEVERITIES = {"page", "ticket", "info"}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
# Series that Prometheus or the blackbox exporter make, not the application.
EXTERNAL_SERIES: dict[str, set[str]] = {"up": set(), "probe_success": set()}
# Labels Prometheus attaches to every scraped series (see deploy/monitoring/prometheus.yml).
TARGET_LABELS = {"job", "instance", "pod", "namespace"}
PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}
# Dashboard variables and the values substituted to check the queries as PromQL.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "6h",
    "${route}": ".*",
    "$route": ".*",
}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


# --- what the application exports ---------------------------------------------------------
def declared_metrics() -> dict[str, tuple[str, set[str]]]:
    """``{name: (Counter|Histogram|..., labels)}`` from core/metrics.py's constructor calls."""
    found: dict[str, tuple[str, set[str]]] = {}
    for node in ast.walk(ast.parse(METRICS_SOURCE.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in {"Counter", "Histogram", "Gauge", "Summary"} or not node.args:
            continue
        name = node.args[0]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            continue
        labels: set[str] = set()
        label_node = node.args[2] if len(node.args) > 2 else None
        for keyword in node.keywords:
            if keyword.arg == "labelnames":
                label_node = keyword.value
        if isinstance(label_node, ast.List | ast.Tuple):
            labels = {
                e.value
                for e in label_node.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
        found[name.value] = (node.func.id, labels)
    return found


def exported_series() -> dict[str, set[str]]:
    """Every series name the exposition can contain, with the labels it carries."""
    series: dict[str, set[str]] = {}
    for name, (kind, labels) in declared_metrics().items():
        base = name.removesuffix("_total")
        if kind == "Counter":
            series[f"{base}_total"] = labels
        elif kind in {"Histogram", "Summary"}:
            series[f"{name}_bucket" if kind == "Histogram" else name] = labels | (
                {"le"} if kind == "Histogram" else {"quantile"}
            )
            series[f"{name}_sum"] = labels
            series[f"{name}_count"] = labels
        else:
            series[name] = labels
    return series


# --- PromQL, just enough to find names ----------------------------------------------------
def strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def selectors(expr: str) -> Iterator[tuple[str, set[str]]]:
    """``(metric name, labels matched)`` for each series selector of ``expr``."""
    body = strip_strings(expr)
    # Grouping lists and range/offset durations are not selectors.
    body = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", body)
    body = re.sub(r"\[[^\]]*\]", " ", body)
    body = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", body)
    for match in re.finditer(
        r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?", body
    ):
        name, matchers, call = match.groups()
        if call or name.lower() in PROMQL_WORDS:
            continue  # a function or aggregation, or a keyword
        labels = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers or ""))
        yield name, labels


def grouping_labels(expr: str) -> set[str]:
    labels: set[str] = set()
    body = strip_strings(expr)
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", body):
        labels.update(x.strip() for x in group.split(",") if x.strip())
    return labels


def template_labels(text: str) -> set[str]:
    return set(re.findall(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)", text))


def check_expr(
    where: str, expr: str, extra_labels: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """Every series name exists and every label used exists on a series of the query."""
    problems = []
    known = exported_series()
    used_labels: set[str] = set(TARGET_LABELS)
    names = list(selectors(expr))
    if not names:
        problems.append(f"{where}: no series selector in {expr!r}")
    for name, labels in names:
        if name in known:
            allowed = known[name] | TARGET_LABELS
        elif name in EXTERNAL_SERIES:
            allowed = EXTERNAL_SERIES[name] | TARGET_LABELS
        else:
            problems.append(f"{where}: series {name!r} is not exported by core/metrics.py")
            continue
        used_labels |= allowed
        for label in sorted(labels - allowed):
            problems.append(f"{where}: {name} has no label {label!r}")
    problems = list(dict.fromkeys(problems))  # a selector repeated in the query: say it once
    for label in sorted((grouping_labels(expr) | extra_labels) - used_labels - {"le"}):
        problems.append(f"{where}: label {label!r} is on none of the query's series")
    return problems


# --- rules --------------------------------------------------------------------------------
def load_rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(ALERTS.read_text())
    return data.get("groups", []) if isinstance(data, dict) else []


def check_rules() -> list[str]:
    problems = []
    data = yaml.safe_load(ALERTS.read_text())
    if not isinstance(data, dict) or set(data) != {"groups"} or not data["groups"]:
        return [f"{ALERTS.name}: the top level must be exactly `groups:` with at least one group"]
    group_names: set[str] = set()
    alert_names: set[str] = set()
    for group in data["groups"]:
        name = group.get("name")
        if not name or name in group_names:
            problems.append(f"group {name!r}: missing or duplicate name")
        group_names.add(name)
        for key in set(group) - {"name", "interval", "rules", "limit"}:
            problems.append(f"group {name}: unknown key {key!r}")
        if not group.get("rules"):
            problems.append(f"group {name}: no rules")
        for rule in group.get("rules") or []:
            kind = "alert" if "alert" in rule else "record" if "record" in rule else None
            title = rule.get("alert") or rule.get("record") or "?"
            where = f"{name}/{title}"
            if kind is None or ("alert" in rule and "record" in rule):
                problems.append(f"{where}: needs exactly one of `alert` and `record`")
                continue
            allowed = {"expr", "labels", kind}
            allowed |= {"for", "keep_firing_for", "annotations"} if kind == "alert" else set()
            for key in set(rule) - allowed:
                problems.append(f"{where}: unknown key {key!r}")
            if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
                problems.append(f"{where}: `expr` must be a non-empty string")
                continue
            if kind == "record":
                continue
            if title in alert_names:
                problems.append(f"{where}: duplicate alert name")
            alert_names.add(title)
            if not DURATION.match(str(rule.get("for", ""))):
                problems.append(f"{where}: `for` must be a duration (e.g. 5m)")
            if (rule.get("labels") or {}).get("severity") not in SEVERITIES:
                problems.append(f"{where}: labels.severity must be one of {sorted(SEVERITIES)}")
            annotations = rule.get("annotations") or {}
            for key in ("summary", "description"):
                if not str(annotations.get(key, "")).strip():
                    problems.append(f"{where}: annotations.{key} is missing")
            text = " ".join(str(v) for v in annotations.values())
            problems += check_expr(where, rule["expr"], template_labels(text))
    # Every alert has a unit test that expects it to fire.
    fired = {
        case["alertname"]
        for path in ALERT_TESTS
        for test in (yaml.safe_load(path.read_text()) or {}).get("tests", [])
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    for alert in sorted(alert_names - fired):
        problems.append(f"alert tests: no test case fires {alert}")
    for alert in sorted(fired - alert_names):
        problems.append(f"alert tests: a test expects an alert that does not exist: {alert}")
    return problems


# --- dashboard ----------------------------------------------------------------------------
def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def dashboard_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # collapsed rows keep their panels inside


def substitute(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def agnostic(datasource: Any) -> bool:
    return isinstance(datasource, dict) and datasource.get("uid") == "${datasource}"


def check_dashboard() -> list[str]:
    try:
        dashboard = load_dashboard()
    except json.JSONDecodeError as exc:
        return [f"{DASHBOARD.name}: not valid JSON: {exc}"]
    problems = []
    for key in ("title", "uid", "panels", "schemaVersion", "templating"):
        if key not in dashboard:
            problems.append(f"dashboard: missing {key!r}")
    if not 36 <= int(dashboard.get("schemaVersion", 0)) <= 41:
        problems.append("dashboard: schemaVersion should be a current one (36-41)")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append("dashboard: needs a `datasource` variable of type datasource (prometheus)")
    for name, variable in variables.items():
        if variable.get("type") == "query":
            if not agnostic(variable.get("datasource")):
                problems.append(f"variable {name}: datasource must be ${{datasource}}")
            query = variable.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query)
            inner = re.match(r"label_values\((.+),\s*(\w+)\)$", text)
            if inner:
                problems += check_expr(f"variable {name}", inner.group(1), {inner.group(2)})
    seen_ids: set[Any] = set()
    cells: dict[tuple[int, int], str] = {}
    count = 0
    for panel in dashboard_panels(dashboard):
        title = panel.get("title", "?")
        if panel.get("id") in seen_ids:
            problems.append(f"panel {title!r}: duplicate id {panel.get('id')}")
        seen_ids.add(panel.get("id"))
        grid = panel.get("gridPos") or {}
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
            problems.append(f"panel {title!r}: gridPos needs h, w, x, y")
            continue
        if grid["x"] + grid["w"] > 24:
            problems.append(f"panel {title!r}: wider than the 24-column grid")
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                if (x, y) in cells:
                    problems.append(f"panel {title!r} overlaps {cells[(x, y)]!r}")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
        if panel.get("type") == "row":
            continue
        count += 1
        if not agnostic(panel.get("datasource")):
            problems.append(f"panel {title!r}: datasource must be ${{datasource}}, not a fixed uid")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r}: no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or None in refs:
            problems.append(f"panel {title!r}: refIds missing or repeated")
        for target in targets:
            if not agnostic(target.get("datasource")):
                problems.append(
                    f"panel {title!r}/{target.get('refId')}: datasource must be ${{datasource}}"
                )
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.append(f"panel {title!r}/{target.get('refId')}: no PromQL `expr`")
                continue
            legend = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")))
            problems += check_expr(
                f"panel {title!r}/{target.get('refId')}", substitute(expr), legend
            )
    if count == 0:
        problems.append("dashboard: no panels")
    return problems


def dashboard_as_rules(out: Path) -> None:
    """Each dashboard query as a recording rule, so `promtool check rules` parses it."""
    rules = []
    for panel in dashboard_panels(load_dashboard()):
        for target in panel.get("targets") or []:
            if target.get("expr"):
                rules.append(
                    {
                        "record": f"dashboard:panel{panel.get('id')}:{target.get('refId')}",
                        "expr": substitute(target["expr"]),
                    }
                )
    out.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}))


# --- scrape configuration -----------------------------------------------------------------
def relabel(address_rule: dict[str, Any], value: str) -> str | None:
    """Prometheus' `replace` action for one source label (RE2 anchored; ${n} groups)."""
    match = re.fullmatch(address_rule.get("regex", "(.*)"), value)
    if not match:
        return None
    return re.sub(
        r"\$\{(\d+)\}", lambda m: match.group(int(m.group(1))), address_rule["replacement"]
    )


def check_scrape() -> list[str]:
    problems = []
    jobs_k8s = {j["job_name"]: j for j in yaml.safe_load(SCRAPE_K8S.read_text())["scrape_configs"]}
    jobs_compose = {
        j["job_name"]: j for j in yaml.safe_load(SCRAPE_COMPOSE.read_text())["scrape_configs"]
    }
    # Every job an alert names is scraped (the compose file has no blackbox probe).
    referenced = set()
    for group in load_rules():
        for rule in group.get("rules", []):
            referenced.update(re.findall(r'job="([^"]+)"', rule.get("expr", "")))
    for job in sorted(referenced - set(jobs_k8s)):
        problems.append(f"{SCRAPE_K8S.name}: alerts use job {job!r}, which is not scraped")
    for job in sorted({"clinic-api", "clinic-worker"} - set(jobs_compose)):
        problems.append(f"{SCRAPE_COMPOSE.name}: job {job!r} is missing")
    for name, jobs in ((SCRAPE_K8S.name, jobs_k8s), (SCRAPE_COMPOSE.name, jobs_compose)):
        api = jobs.get("clinic-api", {})
        if (api.get("authorization") or {}).get("type") != "Bearer":
            problems.append(f"{name}: clinic-api must send the METRICS_TOKEN as a Bearer token")
        if api.get("metrics_path", "/metrics") != "/metrics":
            problems.append(f"{name}: clinic-api must scrape /metrics")
    # The api pods are addressed so that the Host Prometheus sends is one Django accepts.
    from django.http.request import validate_host

    rewrite = [
        r
        for r in jobs_k8s.get("clinic-api", {}).get("relabel_configs", [])
        if r.get("target_label") == "__address__"
    ]
    host = relabel(rewrite[0], "10.244.3.17") if len(rewrite) == 1 else None
    if host != "10-244-3-17.clinic.pod.cluster.local:8000":
        problems.append(f"{SCRAPE_K8S.name}: clinic-api address rewrite gives {host!r}")
    elif not validate_host(host.rsplit(":", 1)[0], [".clinic.pod.cluster.local", "localhost"]):
        problems.append(f"{SCRAPE_K8S.name}: Django would refuse Host {host!r}")
    compose_hosts = next(
        (
            line.split("=", 1)[1].split(",")
            for line in (ROOT / ".env.example").read_text().splitlines()
            if line.startswith("DJANGO_ALLOWED_HOSTS=")
        ),
        [],
    )
    for static in jobs_compose.get("clinic-api", {}).get("static_configs", []):
        for target in static.get("targets", []):
            if not validate_host(target.rsplit(":", 1)[0], compose_hosts):
                problems.append(
                    f"{SCRAPE_COMPOSE.name}: Host {target!r} is not in .env.example's "
                    "DJANGO_ALLOWED_HOSTS: the scrape would get 400"
                )
    return problems


def scrape_for_promtool(out: Path) -> None:
    """Copies that `promtool check config` accepts in full: Debian's Prometheus is built
    without Kubernetes service discovery, so its blocks become file_sd; the credentials
    file and rule file are made to exist."""
    token = out / "token"
    token.write_text("dummy\n")
    (out / "alerts.yml").write_text(ALERTS.read_text())
    (out / "targets.json").write_text("[]\n")
    for source in (SCRAPE_K8S, SCRAPE_COMPOSE):
        config = yaml.safe_load(source.read_text())
        for job in config.get("scrape_configs", []):
            if "kubernetes_sd_configs" in job:
                del job["kubernetes_sd_configs"]
                job["file_sd_configs"] = [{"files": [str(out / "targets.json")]}]
            if "authorization" in job and "credentials_file" in job["authorization"]:
                job["authorization"]["credentials_file"] = str(token)
        (out / source.name).write_text(yaml.safe_dump(config, sort_keys=False))


# --- metrics: the application really exports what core/metrics.py declares -----------------
def check_metrics() -> list[str]:
    declared = declared_metrics()
    problems = []
    if not declared:
        problems.append("core/metrics.py: no metric declarations found")
    for name in declared:
        if not name.startswith("clinic_"):
            problems.append(f"core/metrics.py: {name} does not start with clinic_")
    # Each declared family is used by at least one alert or panel, so none is forgotten.
    exprs = [r["expr"] for g in load_rules() for r in g.get("rules", [])]
    exprs += [
        substitute(t["expr"])
        for p in dashboard_panels(load_dashboard())
        for t in p.get("targets") or []
        if t.get("expr")
    ]
    used = {name for expr in exprs for name, _ in selectors(expr)}
    for name, (kind, _) in declared.items():
        family = (
            {name.removesuffix("_total") + "_total"}
            if kind == "Counter"
            else {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        )
        if not family & used:
            problems.append(f"core/metrics.py: {name} appears in no alert and no dashboard panel")
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "dashboard-as-rules":
        dashboard_as_rules(Path(argv[2]))
        return 0
    if command == "scrape-for-promtool":
        scrape_for_promtool(Path(argv[2]))
        return 0
    checks = {
        "rules": check_rules,
        "dashboard": check_dashboard,
        "scrape": check_scrape,
        "metrics": check_metrics,
    }
    if command not in checks:
        say(__doc__ or "")
        return 2
    problems = checks[command]()
    for problem in problems:
        say(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
