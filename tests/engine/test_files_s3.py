"""The S3-compatible file store against a real S3 API server: $LOOM_TEST_S3_URL, or a local
`moto_server` started for the test (the `s3_endpoint` fixture). Without either, the test is skipped
with the reason."""

from __future__ import annotations

import io
import os
import uuid

import pytest

from engine.base.settings import Settings
from engine.files import MissingFile, file_store_for


def test_files_round_trip_through_an_s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", os.environ.get("AWS_ACCESS_KEY_ID", "loom-test"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", os.environ.get("AWS_SECRET_ACCESS_KEY", "loom-test-secret"))
    bucket = f"loom-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    settings = Settings(
        files_backend="s3",
        files_s3_bucket=bucket,
        files_s3_prefix="crm",
        files_s3_endpoint=s3_endpoint,
        files_s3_region="us-east-1",
    )
    store = file_store_for(settings, "sqlite:///unused.db")
    key = "202611-" + uuid.uuid4().hex
    data = b"%PDF-1.7 " + os.urandom(200_000)
    store.put(key, io.BytesIO(data), "application/pdf")
    assert store.exists(key)
    assert b"".join(store.read(key)) == data
    listed = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").list_objects_v2(
        Bucket=bucket
    )
    assert [item["Key"] for item in listed["Contents"]] == [f"crm/{key}"]  # under the prefix
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(MissingFile):
        b"".join(store.read(key))
    with pytest.raises(MissingFile):
        store.read("../outside")
