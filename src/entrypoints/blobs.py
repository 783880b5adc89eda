"""Building the blob store from settings (used by the container): files under the data
directory (``CHORUS_BLOB_STORE=local``, the default) or an S3-compatible bucket (``s3``)."""

from __future__ import annotations

from adapters.blobs.local import LocalBlobStore
from adapters.blobs.s3 import S3BlobStore
from core.ports.blobs import BlobStore
from entrypoints.settings import Settings


def make_blob_store(settings: Settings) -> BlobStore:
    blobs = settings.blobs
    if blobs.store != "s3":
        return LocalBlobStore(settings.blob_root)
    if blobs.s3_bucket is None:  # load_settings refuses this; settings built by hand may not
        raise RuntimeError("CHORUS_S3_BUCKET is not set (required with CHORUS_BLOB_STORE=s3).")
    return S3BlobStore(
        bucket=blobs.s3_bucket,
        endpoint_url=blobs.s3_endpoint_url,
        region=blobs.s3_region,
        access_key_id=blobs.s3_access_key_id.reveal() if blobs.s3_access_key_id else None,
        secret_access_key=(
            blobs.s3_secret_access_key.reveal() if blobs.s3_secret_access_key else None
        ),
        addressing_style=blobs.s3_addressing_style,
        presign_seconds=blobs.s3_presign_seconds,
    )
