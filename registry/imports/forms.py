"""The import wizard's upload form: it only carries the file; the importer judges it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField(_l("工作簿文件（.xlsx）"), validators=[FileRequired(_l("请选择要导入的 .xlsx 文件。"))],
                     render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
