"""Documents kept outside the database: one storage interface, a local folder or an S3-compatible store.

:mod:`.storage` puts, opens and deletes immutable objects by key;
:mod:`.checks` decides what may be stored (type by content, size, a safe
name) and :func:`.checks.store_upload` stores an upload in one step,
leaving nothing behind when it is refused.
"""
