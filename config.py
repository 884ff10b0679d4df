"""Configuration: the only module that reads the environment.

Every setting the registry uses is declared here with its default. Values the
domain could not confirm (certificate validity, re-examination lead time, the
plan's start date) are settings, not constants: see README, "Unconfirmed
facts".
"""
from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("REGISTRY_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_tuple(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = os.environ.get(name)
    if not value:
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _development_secret_key() -> str:
    """Return the instance's random key, creating it on first use (readable by its owner only).

    A fixed string would let anyone forge sessions on every installation;
    a key per process would log everybody out on each restart.
    """
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    try:
        # Created 0600 from the start: no moment when another user could read it.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        owner_only(key_file)
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def owner_only(path: os.PathLike | str) -> None:
    """Take group and other permissions off a file this process owns (e.g. one made before 0600)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    if status.st_uid == os.geteuid() and status.st_mode & 0o077:
        os.chmod(path, status.st_mode & 0o700)


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'registry.db'}"


class Config:
    """Production and development settings."""

    REGISTRY_ENV = "production"

    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    REGISTRY_INSTANCE_DIR = str(INSTANCE_DIR)  # keys, demo accounts, uploads
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 5000)

    # Upload and import limits.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 50 * 1024 * 1024)
    IMPORT_MAX_ROWS = _env_int("IMPORT_MAX_ROWS", 200_000)
    # A sheet is refused beyond this column, or when the rectangles from A1 to each sheet's last
    # cell hold more cells together (a reader allocates all of them: A1 and XFD1048576 would ask
    # for gigabytes).
    IMPORT_MAX_COLUMNS = _env_int("IMPORT_MAX_COLUMNS", 200)
    IMPORT_MAX_CELLS = _env_int("IMPORT_MAX_CELLS", 6_000_000)
    # A sheet with at least this many rows is written while it is checked (importers.pipeline).
    IMPORT_PIPELINE_MIN_ROWS = _env_int("IMPORT_PIPELINE_MIN_ROWS", 5_000)
    # Uploads, kept for the error workbook and a retry; bigger ones run on the job queue.
    IMPORT_STORAGE_DIR = os.environ.get("IMPORT_STORAGE_DIR") or str(INSTANCE_DIR / "imports")
    IMPORT_INLINE_MAX_BYTES = _env_int("IMPORT_INLINE_MAX_BYTES", 2 * 1024 * 1024)
    IMPORT_INLINE_ONLY = False
    # A background import whose worker has not been heard from for this long is failed (and may be retried).
    IMPORT_LEASE_SECONDS = _env_int("IMPORT_LEASE_SECONDS", 60)
    # Uploads older than this are deleted by the worker (0 keeps them for ever).
    IMPORT_RETENTION_DAYS = _env_int("IMPORT_RETENTION_DAYS", 30)

    # Domain settings whose official values were not confirmed (domain.md).
    CERTIFICATE_VALIDITY_YEARS = _env_int("CERTIFICATE_VALIDITY_YEARS", 4)
    REEXAMINATION_LEAD_MONTHS = _env_int("REEXAMINATION_LEAD_MONTHS", 6)
    # Applications (registry.applications): the regulator's deadlines, in working days (Monday to Friday
    # less APPLICATION_HOLIDAYS, plus APPLICATION_WORKDAYS: weekend days worked, 调休; ISO dates).  Practice,
    # not confirmed rules (../shared/domain.md): settings.  The official calendar is the operator's data,
    # here or in APPLICATION_CALENDAR_FILE (lines "2027-01-01 holiday" / "2027-02-07 workday"), checked
    # at start-up (registry.applications.workdays); none ships.
    APPLICATION_ACCEPTANCE_WORKING_DAYS = _env_int("APPLICATION_ACCEPTANCE_WORKING_DAYS", 5)
    APPLICATION_DECISION_WORKING_DAYS = _env_int("APPLICATION_DECISION_WORKING_DAYS", 20)
    APPLICATION_HOLIDAYS = _env_tuple("APPLICATION_HOLIDAYS", ())
    APPLICATION_WORKDAYS = _env_tuple("APPLICATION_WORKDAYS", ())
    APPLICATION_CALENDAR_FILE = os.environ.get("APPLICATION_CALENDAR_FILE") or None
    # An applicant is reminded this many days before a rectification (整改) deadline.
    REMINDER_RECTIFICATION_DAYS = _env_int("REMINDER_RECTIFICATION_DAYS", 7)
    # A decision is told to the applicant when the reminders run within this many days of it.
    REMINDER_DECISION_DAYS = _env_int("REMINDER_DECISION_DAYS", 30)
    REGISTRATION_VALIDITY_YEARS = _env_int("REGISTRATION_VALIDITY_YEARS", 5)
    # A registration ending within this many months is listed as "expiring" (renewal due).
    REGISTRATION_RENEWAL_LEAD_MONTHS = _env_int("REGISTRATION_RENEWAL_LEAD_MONTHS", 6)
    PROVINCE_CODE = os.environ.get("PROVINCE_CODE", "360000")
    PROVINCE_ABBREVIATION = os.environ.get("PROVINCE_ABBREVIATION", "赣")
    PLAN_START_DATE = date.fromisoformat(os.environ.get("PLAN_START_DATE", "2021-01-01"))
    # Standard statuses that count as "in use" for coverage (comma-separated in the environment).
    COVERING_STATUSES = _env_tuple("COVERING_STATUSES", ("in_use",))

    # Keyed hash for national ID numbers; falls back to SECRET_KEY.
    ID_NUMBER_HASH_KEY = os.environ.get("ID_NUMBER_HASH_KEY") or None

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Redis, when several app servers and workers share one registry: the job queue,
    # the rate limits and the report cache use it when set (each may be overridden).
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Rate-limit counters: Redis when REDIS_URL is set, so every process counts together.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    # How many processes serve requests (gunicorn's WEB_CONCURRENCY convention); gunicorn.conf.py
    # checks its real worker count.  Production refuses more than one with per-process limits.
    SERVER_PROCESSES = _env_int("WEB_CONCURRENCY", 1)
    # The coverage report cache (registry.coverage.cache, Flask-Caching): shared through Redis when a URL
    # is set, else one SimpleCache per process.  Entries are keyed by the data version, so they need no
    # expiry to be right; the timeout only bounds what old versions leave behind.
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL") or REDIS_URL
    CACHE_TYPE = os.environ.get("CACHE_TYPE") or ("RedisCache" if CACHE_REDIS_URL else "SimpleCache")
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "registry:cache:")
    CACHE_DEFAULT_TIMEOUT = _env_int("CACHE_DEFAULT_TIMEOUT", 24 * 3600)
    # The job queue (Huey) run by `registry worker`: sqlite:///FILE (the default, beside the database),
    # redis://HOST:PORT/DB (the default when REDIS_URL is set) or memory:// (one process only).
    JOBS_URL = os.environ.get("JOBS_URL") or REDIS_URL or f"sqlite:///{INSTANCE_DIR / 'jobs.db'}"
    JOBS_QUEUE_NAME = os.environ.get("JOBS_QUEUE_NAME", "registry")
    # Tasks a worker runs at once (threads); keep 1 on SQLite, which has one writer at a time.
    JOBS_WORKERS = _env_int("JOBS_WORKERS", 1)
    # Run each job at once in the process that queues it (debugging; no worker needed).
    JOBS_IMMEDIATE = _env_bool("JOBS_IMMEDIATE", False)
    # Reminders (`registry reminders run`): e-mail over SMTP when SMTP_HOST is set, else each message is
    # written as a .eml file to MAIL_OUTBOX_DIR (development).  Links in messages start with PUBLIC_BASE_URL.
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USER = os.environ.get("SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 20)
    MAIL_FROM = os.environ.get("MAIL_FROM", "registry@localhost")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR") or str(INSTANCE_DIR / "outbox")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Months before a certificate's apply-by date at which its holder is reminded (and once it has passed).
    REMINDER_APPLY_BY_MONTHS = _env_tuple("REMINDER_APPLY_BY_MONTHS", ("12", "9", "6", "3"))
    # A failed e-mail is tried again after REMINDER_RETRY_SECONDS × 2^(tries − 1), at most this many tries.
    REMINDER_MAX_ATTEMPTS = _env_int("REMINDER_MAX_ATTEMPTS", 5)
    REMINDER_RETRY_SECONDS = _env_int("REMINDER_RETRY_SECONDS", 300)
    # A runner holds an e-mail it is sending this long; one that died gives it up when the time is over.
    REMINDER_CLAIM_SECONDS = _env_int("REMINDER_CLAIM_SECONDS", 300)
    # Documents (registry.documents): a folder (several servers mount it) or an S3-compatible bucket via boto3.
    DOCUMENT_STORAGE = os.environ.get("DOCUMENT_STORAGE", "local")
    DOCUMENT_DIR = os.environ.get("DOCUMENT_DIR") or str(INSTANCE_DIR / "documents")
    DOCUMENT_MAX_BYTES = _env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
    S3_BUCKET = os.environ.get("S3_BUCKET") or None
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID") or None
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY") or None
    # `registry worker` runs the reminders every ten minutes; false leaves them to cron.
    REMINDERS_IN_WORKER = _env_bool("REMINDERS_IN_WORKER", True)
    # Login throttling (Flask-Limiter syntax), per account and per remote address.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute")
    # The public query pages (no login) per remote address, Flask-Limiter syntax.
    PUBLIC_QUERY_LIMIT = os.environ.get("PUBLIC_QUERY_LIMIT", "60 per minute")
    # CSRF is checked by registry.security (pages always; API only on cookie auth).
    WTF_CSRF_CHECK_DEFAULT = False
    # Strict-Transport-Security max-age; 0 turns the header off (development, tests).
    HSTS_SECONDS = _env_int("HSTS_SECONDS", 365 * 24 * 3600)

    # Languages: Chinese first, English alongside.
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    # The language of import messages where there is no request to ask (``registry import`` without
    # --lang): zh or en.  Pages use the session's language, the API Accept-Language.
    IMPORT_LANGUAGE = os.environ.get("REGISTRY_LANG", "zh")
    LANGUAGES = ("zh_Hans_CN", "en")

    # API (flask-smorest).
    API_TITLE = "Metrology Standards Registry API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    API_PAGE_SIZE_MAX = 200
    API_TOKEN_TTL_HOURS = _env_int("API_TOKEN_TTL_HOURS", 12)

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _development_secret_key()


class DevelopmentConfig(Config):
    """Local development: plain-HTTP cookies on 127.0.0.1."""

    REGISTRY_ENV = "development"

    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    HSTS_SECONDS = 0


class TestingConfig(Config):
    """The test suite: a throwaway database, no secret on disk."""

    REGISTRY_ENV = "testing"

    TESTING = True
    SECRET_KEY = "test-only-" + secrets.token_hex(8)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    # Workers started by the tests leave reminders alone (tests/reminders calls the job itself).
    REMINDERS_IN_WORKER = False
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # The Redis the tests may use (flushed by them): a database of its own, never production's.
    TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    # No report cache unless a test switches one on (tests/coverage/test_cache.py).
    CACHE_TYPE = "NullCache"
    CACHE_NO_NULL_WARNING = True
    # Tests share one connection per test: no background jobs (tests/jobs runs them on their own database).
    IMPORT_INLINE_ONLY = True
    JOBS_URL = "memory://"
    HSTS_SECONDS = 0


def per_process_limits_problem(env: str, storage: str, processes: int) -> str | None:
    """Why ``processes`` server processes may not count rate limits in ``storage`` under ``env``, or ``None``.

    ``memory://`` storage counts in each process: with two, every limit
    (logins, public queries) is doubled.  Production refuses that.
    """
    storage = storage or "memory://"
    if processes <= 1 or env != "production" or not storage.startswith("memory://"):
        return None
    return (f"{processes} server processes with RATELIMIT_STORAGE_URI={storage}: each process would count "
            f"login attempts and public queries on its own, multiplying every limit by {processes}. "
            f"Set REDIS_URL (or RATELIMIT_STORAGE_URI=redis://...) so they count together, or run one process.")


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def get_config(name: str | None = None) -> Config:
    """Return an instance of the named configuration (``REGISTRY_ENV`` by default)."""
    name = name or os.environ.get("REGISTRY_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"unknown REGISTRY_ENV {name!r}; expected one of {sorted(CONFIGS)}") from None
