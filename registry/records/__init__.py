"""What every registry record's services share, whichever door (page, API, import) calls them.

- ``codes``: validators and normal forms of credit codes, standard and certificate numbers, regulations.
- ``dates``: calendar arithmetic and the range of dates the registry accepts.
- ``fields``: field cleaners that turn raw values into stored ones, reporting every error at once.
- ``queries``: building blocks of list queries (scope, withdrawn records, text search, sorting).
- ``services``: the steps of a change (versions, audit, withdrawal) every record service takes.
"""
