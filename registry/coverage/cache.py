"""The coverage reports, cached until the data changes.

A report depends only on the registry's data, its arguments and a few
settings, so each one is kept (as the JSON-able dict of its ``to_dict()``) under
a key made of:

- the report kind and its arguments, the date resolved (``today`` is a date
  in the key, never "no date");
- the **data version**: the last audit row's id and time, and how many rows
  hold the last ids (see :func:`data_version`).  Every committed change
  writes an audit row in its own transaction, so the version moves with each
  commit, and one indexed look-up per request tells whether a stored report
  is still right (the time tells apart two rows that got the same id, e.g.
  on SQLite after a rollback, or after restoring a backup);
- a **fingerprint** of the settings the reports read (``COVERING_STATUSES``,
  ``REEXAMINATION_LEAD_MONTHS``, the province, ...) and of the application's
  code, templates, translations and migrations, so a new release or a changed
  setting never reads an old entry.

API lists keep their whole answer the same way (:func:`answer_key`, :func:`get_answer`,
:func:`set_answer`): body and paging headers, per reader scope and arguments.

Pages drawn from the reports keep their drawn HTML too (:func:`fragment_key`,
:func:`get_fragment`, :func:`set_fragment`): the same version and fingerprint,
plus the page's arguments, its language and the reader's role.  Only the
part of a page that is the same for every reader goes there (never the
navigation, the user's name or a CSRF token).

The backend is Flask-Caching's (``CACHE_TYPE``): Redis when ``REDIS_URL`` or
``CACHE_REDIS_URL`` is set, so every worker and machine shares the entries;
else a SimpleCache per process.  A cache that fails (Redis down) is logged and
skipped: the report is computed as if nothing were cached.

The API answers :func:`as_dict`; the dashboard, the institution home and the
CLI tables read :func:`result`, the same dict turned back into the service's
result object.  Whatever writes without an audit row (``registry seed``, a
restored backup, SQL by hand) must call :func:`clear`
(``registry coverage clear-cache``).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import types
import typing
from dataclasses import fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_babel import get_locale

from registry.coverage import candidates, metrologists, renewals, services
from registry.coverage.version import _VERSION_KEY, forget_data_version, init_app  # noqa: F401  (here as before)
from registry.extensions import cache, db

log = logging.getLogger(__name__)

# The service each report kind calls.
KINDS: dict[str, Callable[..., Any]] = {
    "report": services.coverage_report,
    "regions": services.coverage_by_region,
    "gaps": services.coverage_gaps,
    "gap_candidates": candidates.gaps_with_candidates,
    "single_points": services.single_points_of_failure,
    "forecast": services.coverage_forecast,
    "expiring": services.expiring_certificates,
    "share": services.institution_share,
    "renewals": renewals.renewals,
    "metrologists": metrologists.metrologist_follow_up,
}
# The settings a report may read: a change of any of them is a different key.
SETTINGS = ("PROVINCE_CODE", "PROVINCE_ABBREVIATION", "COVERING_STATUSES", "REEXAMINATION_LEAD_MONTHS",
            "PLAN_START_DATE", "CERTIFICATE_VALIDITY_YEARS", "REGISTRATION_VALIDITY_YEARS",
            "REGISTRATION_RENEWAL_LEAD_MONTHS")
# Bump when the stored form changes.
FORMAT = 1
# A transaction committing after others is seen if one of its audit rows is among this many last ids.
RECENT_WINDOW = 1000


def as_dict(kind: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report ``kind`` for these arguments, as its ``to_dict()``: from the cache, else computed and stored."""
    function = KINDS[kind]
    if kind == "forecast" and args and isinstance(args[0], date):
        # A forecast reads its date only to find the month-ends after it: every day of a month shares one entry.
        month = _forecast_month(args[0])
        if month is not None and month != args[0]:
            return {**as_dict(kind, month, *args[1:], **kwargs), "as_of": args[0].isoformat()}
    key = _key(kind, args, kwargs)
    stored = _get(key)
    if stored is not None:
        return stored
    data = function(*args, **kwargs).to_dict()
    _set(key, data)
    return data


def memo(kind: str, compute: Callable[[], Any], *args: Any) -> Any:
    """A JSON-able part of a report, kept under ``kind`` and ``args`` like a report (same data version and
    fingerprint): e.g. the figures on a passed plan's deadline, shared by every date judged on it."""
    key = _key(kind, args, {}, localised=False)
    stored = _get(key)
    if stored is not None:
        return stored
    data = compute()
    _set(key, data)
    return data


def peek(kind: str, *args: Any) -> Any:
    """What :func:`memo` keeps under ``kind`` and ``args``, or None (nothing kept, or no cache)."""
    if _no_cache():
        return None
    return _get(_key(kind, args, {}, localised=False))


def store(kind: str, data: Any, *args: Any) -> None:
    """Keep ``data`` as :func:`memo` would under ``kind`` and ``args``: for parts computed together."""
    if not _no_cache():
        _set(_key(kind, args, {}, localised=False), data)


def _forecast_month(as_of: date) -> date | None:
    """The first day of the month whose end is the first month-end after ``as_of`` (the same month-ends follow)."""
    from registry.records.dates import month_ends_after

    try:
        return month_ends_after(as_of, 1)[0].replace(day=1)
    except (ValueError, OverflowError):
        return None


def result(kind: str, *args: Any, **kwargs: Any) -> Any:
    """The report ``kind`` as the service's result object (rebuilt from the cached dict)."""
    return revive(_result_type(kind), as_dict(kind, *args, **kwargs))


def data_version() -> str:
    """The audit trail's end, as ``id+recent@time``: it moves with every committed change.  Once per request.

    ``recent`` counts the rows among the last :data:`RECENT_WINDOW` ids.  On
    PostgreSQL ids (and times) are handed out at insert, not at commit: a
    transaction holding id 10 may commit after one holding id 11, and the last
    id alone would not move; the count does.
    """
    if has_app_context() and _VERSION_KEY in g:
        return g.get(_VERSION_KEY)
    from registry.audit.models import AuditEvent

    last = sa.select(sa.func.max(AuditEvent.id)).scalar_subquery()
    recent = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.id > last - RECENT_WINDOW)
    last_id, recent, last_at = db.session.execute(sa.select(
        last, recent.scalar_subquery(), sa.select(sa.func.max(AuditEvent.occurred_at)).scalar_subquery())).one()
    version = f"{last_id}+{recent}@{last_at.isoformat() if last_at else None}"
    if has_app_context():
        setattr(g, _VERSION_KEY, version)
    return version


def fragment_key(page: str, *parts: Any) -> str:
    """The key of a drawn page fragment: ``parts`` (the page's arguments, its language, ...), version, fingerprint."""
    call = json.dumps([page, list(parts)], default=_plain, ensure_ascii=False)
    arguments = hashlib.sha256(call.encode()).hexdigest()[:24]
    return f"page:{page}:{fingerprint()}:{data_version()}:{arguments}"


def get_fragment(key: str) -> str | None:
    """A fragment's HTML kept under ``key``, else None (a cache that is down is a miss)."""
    stored = _get(key)
    return stored if isinstance(stored, str) else None


def set_fragment(key: str, html: str) -> None:
    _set(key, str(html))


def answer_key(name: str, *parts: Any) -> str | None:
    """The key of a whole API answer (:func:`registry.api.core.kept_answer`): ``parts`` (the reader's scope, the
    arguments, ...), the data version and the fingerprint; None when the backend keeps nothing (the version is
    then not even read)."""
    if _no_cache():
        return None
    call = json.dumps([name, list(parts)], default=_plain, ensure_ascii=False)
    arguments = hashlib.sha256(call.encode()).hexdigest()[:32]
    return f"answer:{name}:{fingerprint()}:{data_version()}:{arguments}"


def get_answer(key: str) -> dict | None:
    """An answer kept under ``key`` (its body and headers), else None (a cache that is down is a miss)."""
    stored = _get(key)
    return stored if isinstance(stored, dict) and isinstance(stored.get("body"), bytes) else None


def set_answer(key: str, answer: dict) -> None:
    _set(key, answer)


def row_count(stmt: sa.Select) -> int:
    """How many rows ``stmt`` selects, kept until the data version moves (a list's total, for its paging).

    Only for lists of records whose every change writes an audit row (standards, institutions, staff, ...):
    the key is the count's SQL and parameters (the reader's scope and ``today`` among them).
    """
    count = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    compiled = count.compile(dialect=db.session.get_bind().dialect)
    call = json.dumps([str(compiled), sorted(compiled.params.items())], default=str, ensure_ascii=False)
    key = f"count:{fingerprint()}:{data_version()}:{hashlib.sha256(call.encode()).hexdigest()[:32]}"
    stored = _get(key)
    if isinstance(stored, int):
        return stored
    total = db.session.scalar(count) or 0
    _set(key, total)
    return total


def kept(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``function(*args, **kwargs)`` kept until the data version moves: a part of a report that other reports
    (or other dates) share, e.g. the figures at a plan's deadline, which every date after it asks for.

    Records in the answer (a catalog version) are kept as their ids and read back from the session.  Arguments
    the key cannot spell (anything but dates, numbers, text, sets, sequences, dataclasses and records) skip the
    cache: the part is computed.
    """
    key = None if _no_cache() else _part_key(function, args, kwargs)
    if key is None:
        return function(*args, **kwargs)
    stored = _get(key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == "kept":
        return _thaw(stored[1])
    value = function(*args, **kwargs)
    _set(key, ("kept", _freeze(value)))
    return value


def keep(function: Callable[..., Any], args: tuple, kwargs: dict, value: Any) -> None:
    """Keep ``value`` as what :func:`kept` answers for ``function(*args, **kwargs)``: a part computed together
    with another (the table of cities' own date with its deadline's figures), so a later call reads it."""
    key = None if _no_cache() else _part_key(function, args, kwargs)
    if key is not None:
        _set(key, ("kept", _freeze(value)))


def _part_key(function: Callable[..., Any], args: tuple, kwargs: dict) -> str | None:
    """The key :func:`kept` keeps ``function(*args, **kwargs)`` under, or None when an argument cannot be spelled."""
    try:
        call = json.dumps([function.__module__, function.__qualname__, list(args), sorted(kwargs.items())],
                          default=_plain_part, ensure_ascii=False)
    except TypeError:
        return None
    return f"part:{function.__name__}:{fingerprint()}:{data_version()}:{hashlib.sha256(call.encode()).hexdigest()[:32]}"


def _no_cache() -> bool:
    """No backend (outside an application) or one that keeps nothing (``NullCache``, the tests' default)."""
    from flask_caching.backends.nullcache import NullCache

    if not has_app_context():
        return True
    try:
        return isinstance(cache.cache, NullCache)
    except Exception:  # noqa: BLE001 (no cache bound to this app)
        return True


def _plain_part(value: Any) -> Any:
    from sqlalchemy import inspect as inspect_record

    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: getattr(value, f.name) for f in fields(value)}]
    state = inspect_record(value, raiseerr=False)
    if state is not None and getattr(state, "identity", None) is not None:
        return [type(value).__name__, list(state.identity)]
    raise TypeError(f"coverage cache: cannot key an argument of type {type(value).__name__}")


class _Record(tuple):
    """A record kept as (class, primary key)."""


def _freeze(value: Any) -> Any:
    from sqlalchemy import inspect as inspect_record

    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, list):
        return [_freeze(v) for v in value]
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    state = inspect_record(value, raiseerr=False) if hasattr(value, "__table__") else None
    if state is not None:
        return _Record((type(value), state.identity))
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, _Record):
        kind, identity = value
        return db.session.get(kind, identity)
    if isinstance(value, tuple):
        return tuple(_thaw(v) for v in value)
    if isinstance(value, list):
        return [_thaw(v) for v in value]
    if isinstance(value, dict):
        return {k: _thaw(v) for k, v in value.items()}
    return value


def clear() -> None:
    """Drop every cached report (only this cache's keys, under ``CACHE_KEY_PREFIX``)."""
    cache.clear()


def fingerprint() -> str:
    """The settings and the coverage code the reports depend on, hashed."""
    settings = {name: current_app.config.get(name) for name in SETTINGS}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(_code_digest())
    return digest.hexdigest()[:16]


@functools.cache
def _code_digest() -> bytes:
    """The application's code, templates, translations and migrations, hashed once per process: a new release
    starts a fresh cache."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256(bytes([FORMAT]))
    package = root / "registry"
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.html"), *package.rglob("*.po"),
                        *(root / "migrations").rglob("*.py")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _key(kind: str, args: tuple, kwargs: dict, *, localised: bool = True) -> str:
    # A report's warnings are in the user's language: one entry per language.
    language = str(get_locale() or "") if localised and has_app_context() else ""
    call = json.dumps([kind, list(args), sorted(kwargs.items()), language], default=_plain, ensure_ascii=False)
    arguments = hashlib.sha256(call.encode()).hexdigest()[:24]
    return f"coverage:{kind}:{fingerprint()}:{data_version()}:{arguments}"


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"coverage cache: cannot key an argument of type {type(value).__name__}")


def _get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 (a cache that is down must not take the reports with it)
        log.warning("coverage cache unavailable (get); computing the report", exc_info=True)
        return None


def _set(key: str, value: Any) -> None:
    try:
        cache.set(key, value)
    except Exception:  # noqa: BLE001
        log.warning("coverage cache unavailable (set); the report is not kept", exc_info=True)


# --- Turning a cached dict back into the service's result ------------------------


@functools.cache
def _result_type(kind: str) -> type:
    return typing.get_type_hints(KINDS[kind])["return"]


def revive(kind: Any, value: Any) -> Any:
    """Rebuild a value of type ``kind`` from its ``to_dict()`` form (dates from ISO text, nested results)."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        for option in options:
            if option is date and isinstance(value, str):
                return date.fromisoformat(value)
            if is_dataclass(option) and isinstance(value, dict):
                return revive(option, value)
        return value
    if origin is list:
        (item,) = typing.get_args(kind)
        return [revive(item, v) for v in value]
    if origin is tuple:
        items = typing.get_args(kind)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(revive(items[0], v) for v in value)
        return tuple(revive(t, v) for t, v in zip(items, value))
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, type) and is_dataclass(kind):
        return kind(**{name: revive(hint, value[name]) for name, hint in _fields(kind) if name in value})
    return value


@functools.cache
def _fields(kind: type) -> tuple[tuple[str, Any], ...]:
    """A result class's constructor fields with their types (resolving the hints is slow: once per class)."""
    hints = typing.get_type_hints(kind)
    return tuple((f.name, hints[f.name]) for f in fields(kind) if f.init)


