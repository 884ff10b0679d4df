"""Excel in and out: workbook import, export and templates.

Importers call the same services as the API and the pages, so every rule is
enforced once.
"""
