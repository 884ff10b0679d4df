"""Small builders for test records: each returns a flushed object."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timezone
from decimal import Decimal

from registry.catalog.models import CatalogLine, CatalogVersion
from registry.records.codes import credit_code_check_char
from registry.extensions import db
from registry.indicators.models import RecordedValue
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.reference.models import Region
from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard

_serial = itertools.count(1)


def credit_code(region: str = "360100", entity: str = "12") -> str:
    body = f"{entity}{region}T{next(_serial):08d}"
    return body + credit_code_check_char(body)


def institution(**fields) -> Institution:
    values = dict(credit_code=credit_code(fields.get("region_code", "360100")), name=f"测试机构{next(_serial)}",
                  region_code="360100", kind="legal_metrology")
    values.update(fields)
    obj = Institution(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def catalog_version(**fields) -> CatalogVersion:
    values = dict(name=f"测试目录{next(_serial)}", source_document="test", effective_from=date(2020, 1, 1),
                  declared_line_count=3)
    values.update(fields)
    obj = CatalogVersion(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def catalog_line(version: CatalogVersion, **fields) -> CatalogLine:
    values = dict(catalog_version_id=version.id, code=f"T{next(_serial)}", name=f"测试器具{next(_serial)}", mode="V")
    values.update(fields)
    obj = CatalogLine(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def standard(holder: Institution, *, lines=(), **fields) -> MeasurementStandard:
    n = next(_serial)
    values = dict(certificate_no=f"[2024]赣量标测证字第{n}号", name=f"测试标准装置{n}", category="social_public",
                  institution_id=holder.id, issued_on=date(2024, 1, 1), valid_until=date(2027, 12, 31),
                  status="in_use")
    values.update(fields)
    obj = MeasurementStandard(**values)
    obj.catalog_lines = list(lines)
    db.session.add(obj)
    db.session.flush()
    return obj


def regulation(**fields) -> Regulation:
    n = next(_serial)
    values = dict(code=f"JJG(赣) {n}-2024", series="JJG", province="赣", number=str(n), year=2024,
                  title=f"测试规程{n}", kind="verification_regulation", level="local", status="published",
                  published_on=date(2024, 1, 1))
    values.update(fields)
    obj = Regulation(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def person(employer: Institution, **fields) -> Person:
    values = dict(name=f"测试人员{next(_serial)}", institution_id=employer.id, employed_from=date(2020, 1, 1))
    values.update(fields)
    obj = Person(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


# A fixed password for test accounts, hashed once per run (scrypt is slow on purpose).
PASSWORD = "correct horse battery staple"
_password_hash: list[str] = []


def user(role: str, institution: Institution | None = None, **fields):
    from werkzeug.security import generate_password_hash

    from registry.auth.models import User

    if not _password_hash:
        _password_hash.append(generate_password_hash(PASSWORD, method="scrypt"))
    values = dict(email=f"{role}{next(_serial)}@example.org", role=role, password_hash=_password_hash[0],
                  institution_id=institution.id if institution else None, active=True, session_epoch=0)
    values.update(fields)
    obj = User(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def withdrawn_at() -> datetime:
    """A withdrawal timestamp for ``withdrawn_at=``."""
    return datetime.now(timezone.utc)


def region(code: str, *, parent_code: str | None = "360100", level: str = "county", **fields) -> Region:
    values = dict(code=code, name=f"测试区{code}", level=level, parent_code=parent_code, table_version="test")
    values.update(fields)
    obj = Region(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def recorded_value(indicator_key: str, value, *, region_code: str = "360000", as_of: date = date(2025, 1, 1),
                   **fields) -> RecordedValue:
    values = dict(indicator_key=indicator_key, region_code=region_code, as_of=as_of, value=Decimal(str(value)),
                  source=f"测试来源{next(_serial)}")
    values.update(fields)
    obj = RecordedValue(**values)
    db.session.add(obj)
    db.session.flush()
    return obj
