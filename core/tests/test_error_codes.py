"""The schema's error codes are true: every code a view's services can raise is in the
operation's documented error responses, and every documented code can be raised.

"Can raise" is read from the source: starting at the view's handler for the operation,
the walk follows every call (and every function passed along, e.g. to ``partial``) into
project code and collects the ``ErrorCode`` members it meets, plus the default code of
any ``ApiError`` it raises. Members inside a ``ValidationError(...)`` are field codes
(reported in ``errors`` under a 400 ``validation_error``) and are not part of this check.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.exceptions import APIException

from core.errors import CoreErrorCode, ErrorCode

ROOT = Path(settings.BASE_DIR).resolve()
# Codes every operation may answer; the schema documents them with the status itself.
GENERIC = frozenset(CoreErrorCode) - {CoreErrorCode.HAS_DEPENDENTS, CoreErrorCode.CONFLICT}
# Which view methods handle an operation, besides the one named after the action.
HANDLERS = {
    "create": ("perform_create",),
    "update": ("perform_update",),
    "partial_update": ("perform_update",),
    "destroy": ("perform_destroy",),
}
# Field codes: Django/DRF validation errors, and an import report's row problems
# (``field_error`` in transfers.importing, reported as ``{row, field, code, detail}``).
VALIDATION_ERRORS = ("ValidationError", "field_error")


def _all_codes() -> dict[str, ErrorCode]:
    for config in apps.get_app_configs():
        if Path(config.path).resolve().is_relative_to(ROOT):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"{config.name}.errors")
    codes: dict[str, ErrorCode] = {}
    pending: list[type[ErrorCode]] = [ErrorCode]
    while pending:
        enum = pending.pop()
        pending.extend(enum.__subclasses__())
        codes.update({member.value: member for member in enum})
    return codes


def _is_project(obj: Any) -> bool:
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return False
    if source is None or not Path(source).is_absolute():
        return False  # built-in, or frozen ("<frozen posixpath>")
    path = Path(source).resolve()
    return path.is_relative_to(ROOT) and ".venv" not in path.relative_to(ROOT).parts


def _resolve(node: ast.expr, scope: dict[str, Any], owner: type | None) -> Any:
    """The object a name or dotted attribute refers to, or None."""
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "self" and owner is not None:
            return getattr(owner, node.attr, None)
        base = _resolve(node.value, scope, owner)
        return getattr(base, node.attr, None) if base is not None else None
    return None


class _Walker:
    def __init__(self) -> None:
        self.seen: set[Any] = set()

    def codes(self, func: Callable[..., Any], owner: type | None = None) -> set[ErrorCode]:
        func = inspect.unwrap(func)
        if func in self.seen or not _is_project(func):
            return set()
        self.seen.add(func)
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        definition = tree.body[0]
        assert isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef))
        scope = dict(getattr(func, "__globals__", {}))
        found: set[ErrorCode] = set()
        # The body only: decorators (the schema text) and annotations raise nothing.
        for statement in definition.body:
            self._visit(statement, scope, owner, found, in_validation=False)
        return found

    def _visit(
        self,
        node: ast.AST,
        scope: dict[str, Any],
        owner: type | None,
        found: set[ErrorCode],
        *,
        in_validation: bool,
    ) -> None:
        if isinstance(node, ast.Call):
            callee = _resolve(node.func, scope, owner)
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = name or (node.func.id if isinstance(node.func, ast.Name) else "")
            in_validation = in_validation or name in VALIDATION_ERRORS
            if isinstance(callee, type) and issubclass(callee, APIException):
                if not any(k.arg == "code" for k in node.keywords):
                    found.update(_default_code(callee))
                for child in [*node.args, *node.keywords]:
                    self._visit(child, scope, owner, found, in_validation=in_validation)
                return
        elif isinstance(node, ast.Raise) and node.exc is not None:
            raised = _resolve(node.exc, scope, owner)
            if isinstance(raised, type) and issubclass(raised, APIException):
                found.update(_default_code(raised))  # ``raise NotAuthor``
        elif isinstance(node, (ast.Name, ast.Attribute)):
            target = _resolve(node, scope, owner)
            if isinstance(target, ErrorCode):
                if not in_validation:
                    found.add(target)
                return
            if inspect.isfunction(target) or inspect.ismethod(target):
                method_owner = owner if getattr(owner, target.__name__, None) is not None else None
                found.update(self.codes(target, method_owner))
        for child in ast.iter_child_nodes(node):
            self._visit(child, scope, owner, found, in_validation=in_validation)


def _default_code(exc_class: type[APIException]) -> set[ErrorCode]:
    code = _all_codes().get(str(exc_class.default_code))
    return {code} if code is not None else set()


@cache
def _operations() -> list[tuple[str, str, Any, dict[str, Any]]]:
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    result = []
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        operation = schema["paths"].get(path, {}).get(method.lower())
        if not path.startswith("/api/v1/") or operation is None:
            continue  # the schema and docs pages, excluded from the schema
        result.append((path, method.lower(), view, operation))
    return result


def _handlers(view: Any, method: str) -> Iterator[Callable[..., Any]]:
    action = getattr(view, "action", None) or method
    for name in (action, *HANDLERS.get(action, ()), "initial"):
        handler = getattr(type(view), name, None)
        if handler is not None and _is_project(handler):
            yield handler


def _documented(operation: dict[str, Any]) -> set[ErrorCode]:
    codes = _all_codes()
    found: set[ErrorCode] = set()
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            for word in re.findall(r"`([a-z_]+)`", response.get("description", "")):
                if word in codes:
                    found.add(codes[word])
    return found


def _raised(view: Any, method: str) -> set[ErrorCode]:
    walker = _Walker()
    found: set[ErrorCode] = set()
    for handler in _handlers(view, method):
        found |= walker.codes(handler, type(view))
    return found


def _values(codes: set[ErrorCode]) -> set[str]:
    return {str(code) for code in codes}


def test_every_raised_code_is_documented_and_every_documented_code_is_raised() -> None:
    problems = []
    raised_anywhere: set[ErrorCode] = set()
    operations = _operations()
    assert len(operations) > 30  # the walk really found the API
    for path, method, view, operation in operations:
        raised = _raised(view, method)
        raised_anywhere |= raised
        documented = _values(_documented(operation))
        missing = _values(raised - GENERIC) - documented
        never = documented - _values(raised | GENERIC)
        if missing:
            problems.append(f"{method.upper()} {path}: raises but does not document {missing}")
        if never:
            problems.append(f"{method.upper()} {path}: documents but never raises {never}")
    assert not problems, "\n".join(problems)
    # The walk really reaches the services (a broken walk would find nothing to check).
    for code in ("duplicate_email", "has_dependents", "doctor_conflict", "note_signed"):
        assert code in _values(raised_anywhere)


def test_walk_sees_through_helpers_and_exception_classes() -> None:
    from notes.api.views import NoteViewSet
    from summaries.api.views import CurrentSummaryView

    by_view = {
        (type(view), method, getattr(view, "action", None)): view
        for _p, method, view, _o in _operations()
    }
    sign = by_view[(NoteViewSet, "post", "sign")]
    # invalid_password is the default code of an ApiError subclass; note_retracted comes
    # from a helper that builds the Conflict.
    assert {"invalid_password", "note_retracted", "already_signed"} <= _values(
        _raised(sign, "post")
    )
    current = by_view[(CurrentSummaryView, "get", None)]
    # queue_unavailable is raised in a callback handed to on_commit through partial().
    assert {"summary_failed", "queue_unavailable"} <= _values(_raised(current, "get"))


def test_raise_sites_use_the_enums() -> None:
    """No string literal as an error code: ``code="..."`` only in tests."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if (
            parts[0].startswith(".")
            or parts[0] in ("bench", "faults")
            or "tests" in parts
            or "migrations" in parts
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            literals: list[ast.expr] = []
            if isinstance(node, ast.Call):
                literals = [k.value for k in node.keywords if k.arg in ("code", "default_code")]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "default_code" for t in node.targets
            ):
                literals = [node.value]
            if any(isinstance(value, ast.Constant) for value in literals):
                offenders.append(f"{path.relative_to(ROOT)}:{literals[0].lineno}")
    assert not offenders, offenders
