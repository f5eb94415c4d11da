"""An S3-compatible file store (AWS S3, MinIO, Ceph, OSS/COS in S3 mode) through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from engine.base.settings import Settings
from engine.files.stores import CHUNK, MissingFile, check_key


class S3FileStore:
    """Objects in one bucket, under an optional prefix; credentials from settings or boto3's own chain."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3FileStore:
        if not settings.files_s3_bucket:
            raise ValueError("LOOM_FILES_BACKEND=s3 needs LOOM_FILES_S3_BUCKET")
        try:
            import boto3
        except ImportError:
            raise ValueError("LOOM_FILES_BACKEND=s3 needs boto3: pip install 'loom-crm[s3]'") from None
        options: dict[str, Any] = {}
        if settings.files_s3_endpoint:
            options["endpoint_url"] = settings.files_s3_endpoint
        if settings.files_s3_region:
            options["region_name"] = settings.files_s3_region
        if settings.files_s3_access_key:
            options["aws_access_key_id"] = settings.files_s3_access_key
            options["aws_secret_access_key"] = settings.files_s3_secret_key
        client = boto3.session.Session().client("s3", **options)
        return cls(client, settings.files_s3_bucket, settings.files_s3_prefix)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: BinaryIO, content_type: str) -> None:
        extra = {"ContentType": content_type}
        self.client.upload_fileobj(data, self.bucket, self._name(key), ExtraArgs=extra)

    def read(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise MissingFile("there is no such file") from None
            raise
        return _body_chunks(found["Body"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
