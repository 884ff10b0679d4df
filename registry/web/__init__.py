"""What every page shares; the pages themselves live in each feature's ``views.py``.

- ``core``: who is signed in, paging in SQL, list and export arguments, errors shown on forms, the layout.
- ``forms``: versioned forms, saving them, the withdrawal page of every registry.
- ``labels``: labels, validity states and form values the record pages show.
"""
