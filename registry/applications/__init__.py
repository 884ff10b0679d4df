"""Examinations under JJF 1033 (计量标准考核): applications, review, decisions, documents."""
