"""Public page ids (``new_public_id``): drawn in batches, each one URL-safe, unique, not shared with a fork."""
import base64
import os
import re

from registry.standards import models
from registry.standards.models import PUBLIC_ID_BYTES, new_public_id


def test_ids_are_16_url_safe_characters_of_12_random_bytes_and_unique():
    ids = [new_public_id() for _ in range(3 * models._POOL_SIZE + 7)]  # several refills
    assert len(set(ids)) == len(ids)
    for public_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16}", public_id)
        assert len(base64.urlsafe_b64decode(public_id)) == PUBLIC_ID_BYTES


def test_a_forked_child_does_not_reuse_the_parents_pool():
    new_public_id()  # the pool now holds ids the parent will hand out
    assert models._pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its pool starts empty, its ids are its own
        try:
            os.write(write, (str(len(models._pool)) + " " + new_public_id()).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    left, child_id = os.read(read, 100).decode().split()
    os.close(read)
    assert left == "0"
    assert child_id not in models._pool and child_id != new_public_id()
