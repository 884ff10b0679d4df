"""Where documents live: ``DOCUMENT_STORAGE=local`` (a folder) or ``s3`` (an S3-compatible object store).

Objects are immutable: :meth:`Storage.put` never replaces an existing key
(a new version of a document is a new object), and keys are made by the
caller from random ids, never from a user's file name.  Several app servers
share the local folder as a mounted volume, or the bucket.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Mapping, Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,5}$")
CHUNK = 1024 * 1024


class StorageError(Exception):
    """The store could not do what was asked (unreachable, refused, missing)."""


class ObjectExists(StorageError):
    """A put to a key that is already there: objects are never overwritten."""


class ObjectMissing(StorageError):
    pass


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


def check_key(key: str) -> str:
    """Keys are short relative paths of safe characters (no ``..``, no leading slash)."""
    if not _KEY.match(key or "") or ".." in key:
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, source: BinaryIO, *, content_type: str) -> StoredObject: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


def _digest(path: Path) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


class LocalStorage:
    """A folder: each object a file (mode 0600), written to a temporary name and linked into place."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: BinaryIO, *, content_type: str) -> StoredObject:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                shutil.copyfileobj(source, handle, CHUNK)
            os.chmod(temp, 0o600)
            try:
                os.link(temp, target)  # fails if the key exists: never overwrite
            except FileExistsError:
                raise ObjectExists(key) from None
            size, sha = _digest(target)
            return StoredObject(key, size, sha)
        finally:
            os.unlink(temp)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None

        def chunks() -> Iterator[bytes]:
            with handle:
                yield from iter(lambda: handle.read(CHUNK), b"")

        return chunks()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    """An S3-compatible bucket through boto3 (AWS, MinIO, Ceph ...; the tests use moto's server)."""

    def __init__(self, bucket: str, *, client: Any):
        self.bucket = bucket
        self.client = client

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "S3Storage":
        import boto3
        from botocore.config import Config as BotoConfig

        client = boto3.client(
            "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None, region_name=config.get("S3_REGION"),
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30))
        return cls(config["S3_BUCKET"], client=client)

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError

        return BotoCoreError, ClientError

    def exists(self, key: str) -> bool:
        BotoCoreError, ClientError = self._errors()
        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(str(error)) from None
        except BotoCoreError as error:
            raise StorageError(str(error)) from None

    def put(self, key: str, source: BinaryIO, *, content_type: str) -> StoredObject:
        BotoCoreError, ClientError = self._errors()
        if self.exists(key):
            raise ObjectExists(key)
        with tempfile.TemporaryFile() as spool:  # hash and size first, then one upload
            sha, size = hashlib.sha256(), 0
            for chunk in iter(lambda: source.read(CHUNK), b""):
                sha.update(chunk)
                size += len(chunk)
                spool.write(chunk)
            spool.seek(0)
            try:
                self.client.upload_fileobj(spool, self.bucket, check_key(key), ExtraArgs={
                    "ContentType": content_type, "Metadata": {"sha256": sha.hexdigest()}})
            except (BotoCoreError, ClientError) as error:
                raise StorageError(str(error)) from None
        return StoredObject(key, size, sha.hexdigest())

    def open(self, key: str) -> Iterator[bytes]:
        BotoCoreError, ClientError = self._errors()
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise ObjectMissing(key) from None
            raise StorageError(str(error)) from None
        except BotoCoreError as error:
            raise StorageError(str(error)) from None
        return body.iter_chunks(CHUNK)

    def delete(self, key: str) -> None:
        BotoCoreError, ClientError = self._errors()
        try:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(str(error)) from None


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    kind = (config.get("DOCUMENT_STORAGE") or "local").lower()
    if kind == "local":
        return LocalStorage(config["DOCUMENT_DIR"])
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("DOCUMENT_STORAGE=s3 needs S3_BUCKET")
        return S3Storage.from_config(config)
    raise RuntimeError(f"DOCUMENT_STORAGE {kind!r}: expected local or s3")


def storage() -> Storage:
    """The storage of the current app (built once per app)."""
    from flask import current_app

    found = current_app.extensions.get("registry.documents")
    if found is None:
        found = current_app.extensions["registry.documents"] = storage_from_config(current_app.config)
    return found
