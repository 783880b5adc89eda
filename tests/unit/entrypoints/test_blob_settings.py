"""CHORUS_BLOB_STORE and CHORUS_S3_*: local disk by default, S3 validated at start, its
secrets never printed."""

from __future__ import annotations

import pytest

from adapters.blobs.local import LocalBlobStore
from adapters.blobs.s3 import S3BlobStore
from entrypoints.blobs import make_blob_store
from entrypoints.settings import Environment, SettingsError, load_settings

S3 = {
    "CHORUS_BLOB_STORE": "s3",
    "CHORUS_S3_BUCKET": "chorus-audio",
    "CHORUS_S3_ENDPOINT_URL": "https://account.r2.cloudflarestorage.com",
    "CHORUS_S3_REGION": "auto",
    "CHORUS_S3_ACCESS_KEY_ID": "key-id-never-shown",
    "CHORUS_S3_SECRET_ACCESS_KEY": "secret-never-shown",
}


@pytest.mark.parametrize("environment", list(Environment))
def test_local_disk_is_the_default(environment, tmp_path):
    settings = load_settings(
        {"CHORUS_DATA_DIR": str(tmp_path), "SUPABASE_JWT_SECRET": "x" * 40},
        environment=environment,
    )
    assert settings.blobs.store == "local"
    assert isinstance(make_blob_store(settings), LocalBlobStore)
    assert settings.blob_root == tmp_path / "blobs"


def test_s3_is_read_with_path_style_for_a_custom_endpoint():
    settings = load_settings(S3, environment=Environment.TEST)
    blobs = settings.blobs
    assert blobs.store == "s3"
    assert blobs.s3_bucket == "chorus-audio"
    assert blobs.s3_endpoint_url == S3["CHORUS_S3_ENDPOINT_URL"]
    assert blobs.s3_region == "auto"
    assert blobs.s3_addressing_style == "path"
    assert blobs.s3_presign_seconds == 300
    assert "never-shown" not in repr(settings)
    assert isinstance(make_blob_store(settings), S3BlobStore)


def test_aws_without_endpoint_or_keys_uses_the_default_chain_and_auto_addressing():
    settings = load_settings(
        {"CHORUS_BLOB_STORE": "S3", "CHORUS_S3_BUCKET": "my.bucket-1"},
        environment=Environment.TEST,
    )
    assert settings.blobs.s3_addressing_style == "auto"
    assert settings.blobs.s3_access_key_id is None


def test_every_bad_value_is_reported_and_secrets_are_not_echoed():
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "CHORUS_BLOB_STORE": "s3",
                "CHORUS_S3_BUCKET": "Bad_Bucket",
                "CHORUS_S3_ENDPOINT_URL": "ftp://somewhere",
                "CHORUS_S3_SECRET_ACCESS_KEY": "secret-never-shown",
                "CHORUS_S3_ADDRESSING_STYLE": "sideways",
                "CHORUS_S3_PRESIGN_SECONDS": "700000",
            },
            environment=Environment.TEST,
        )
    problems = error.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "CHORUS_S3_BUCKET",
        "CHORUS_S3_ENDPOINT_URL",
        "CHORUS_S3_ACCESS_KEY_ID / CHORUS_S3_SECRET_ACCESS_KEY",
        "CHORUS_S3_ADDRESSING_STYLE",
        "CHORUS_S3_PRESIGN_SECONDS",
    ]
    assert "never-shown" not in str(error.value)


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"CHORUS_BLOB_STORE": "s3"}, "CHORUS_S3_BUCKET: required when CHORUS_BLOB_STORE is s3"),
        ({"CHORUS_BLOB_STORE": "gcs"}, "CHORUS_BLOB_STORE: must be local or s3 (got 'gcs')"),
    ],
)
def test_the_store_and_its_bucket(environ, problem):
    with pytest.raises(SettingsError) as error:
        load_settings(environ, environment=Environment.TEST)
    assert error.value.problems == [problem]
