"""Confirming a previewed import (``apply_previewed``): only a clean preview, by its starter, once."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from registry.errors import Conflict, Forbidden, NotFound
from registry.extensions import db
from registry.imports import services
from registry.standards.models import MeasurementStandard
from tests.importers.books import STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row


def _preview(user, *rows):
    return services.start_import(io.BytesIO(xlsx({"计量标准": [STANDARD_HEADER, *rows]})), filename="预览.xlsx",
                                 actor=user, dry_run=True)


def _exists(number: str) -> bool:
    return db.session.scalar(sa.select(MeasurementStandard.id).where(MeasurementStandard.certificate_no == number)) \
        is not None


def test_a_clean_preview_is_applied_from_its_stored_upload(users):
    number = "[2099]赣量标服测证字第001号"
    preview = _preview(users.institution, standard_row(number, users.own.credit_code))
    assert preview.status == "previewed" and not _exists(number)
    applied = services.apply_previewed(preview, actor=users.institution)
    assert (applied.status, applied.dry_run, applied.source_run_id) == ("applied", False, preview.id)
    assert applied.filename == preview.filename and applied.id != preview.id
    assert services.upload_path(applied).read_bytes() == services.upload_path(preview).read_bytes()
    assert _exists(number)
    assert services.confirmation_of(preview) == applied


def test_a_preview_is_applied_only_once(users):
    preview = _preview(users.regulator, standard_row("[2099]赣量标服测证字第002号", users.own.credit_code))
    services.apply_previewed(preview, actor=users.regulator)
    with pytest.raises(Conflict):
        services.apply_previewed(preview, actor=users.regulator)


def test_a_preview_with_errors_or_a_real_run_cannot_be_confirmed(users):
    bad = _preview(users.regulator, standard_row("[2099]赣量标服测证字第003号", users.own.credit_code,
                                                 **{"类别*": "公用"}))
    assert bad.status == "invalid"
    with pytest.raises(Conflict):
        services.apply_previewed(bad, actor=users.regulator)
    real = services.start_import(io.BytesIO(xlsx({"计量标准": [STANDARD_HEADER, standard_row(
        "[2099]赣量标服测证字第004号", users.own.credit_code)]})), filename="x.xlsx", actor=users.regulator,
        dry_run=False)
    assert real.status == "applied"
    with pytest.raises(Conflict):
        services.apply_previewed(real, actor=users.regulator)


def test_only_the_user_who_previewed_may_confirm(users):
    preview = _preview(users.institution, standard_row("[2099]赣量标服测证字第005号", users.own.credit_code))
    with pytest.raises(NotFound):
        services.apply_previewed(preview, actor=users.other)
    with pytest.raises(Forbidden):
        services.apply_previewed(preview, actor=users.admin)
    assert not _exists("[2099]赣量标服测证字第005号")


def test_a_preview_whose_upload_is_gone_is_refused(users):
    preview = _preview(users.regulator, standard_row("[2099]赣量标服测证字第006号", users.own.credit_code))
    services.upload_path(preview).unlink()
    with pytest.raises(Conflict):
        services.apply_previewed(preview, actor=users.regulator)
