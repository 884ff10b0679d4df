"""The import wizard's upload form: the file, and for a CSV file which sheet it is; the importer judges it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from importers.spec import WORKBOOK_ORDER

# What the browser's file picker offers (the importer tells the format by the content).
ACCEPT = (".xlsx,.xls,.ods,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
          "application/vnd.ms-excel,application/vnd.oasis.opendocument.spreadsheet,text/csv")


class UploadForm(FlaskForm):
    file = FileField(_l("工作簿文件（.xlsx、.xls、.ods 或 .csv）"),
                     validators=[FileRequired(_l("请选择要导入的文件（.xlsx、.xls、.ods 或 .csv）。"))],
                     render_kw={"accept": ACCEPT})
    sheet = SelectField(_l("CSV 文件是哪张表"), choices=[("", _l("按表头判断"))]
                        + [(sheet.title, sheet.title) for sheet in WORKBOOK_ORDER], default="")
