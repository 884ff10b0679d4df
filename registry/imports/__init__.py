"""Import runs: one row per workbook import, with its status, progress and report."""
