"""Storage: a local folder, and an S3-compatible bucket on a real local S3 server (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from facilities.core.storage import LocalStorage, S3Storage, get_storage
from facilities.settings import Settings
from tests.conftest import make_test_app

REFUSED_KEYS = ["../x", ".hidden", "a/b", "", "/etc/passwd", ".."]
CONNECTION = {"region": "eu-north-1", "access_key_id": "test", "secret_access_key": "test"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on a free port of this machine, for the tests of this module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def raw(s3_endpoint):
    """A client of the tests' own, to look into buckets past the storage under test."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=CONNECTION["region"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def bucket(raw) -> str:
    """An empty bucket of the test's own."""
    name = f"facilities-test-{uuid.uuid4().hex[:12]}"
    raw.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": CONNECTION["region"]}
    )
    return name


def s3_storage(endpoint: str, bucket: str, prefix: str = "") -> S3Storage:
    return S3Storage(bucket, prefix=prefix, endpoint_url=endpoint, **CONNECTION)


# -- local folder ----------------------------------------------------------------------


def test_local_storage_round_trip(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    key = storage.save(b"\x89PNG photo", suffix=".png", content_type="image/png")
    assert key.endswith(".png") and "/" not in key and not key.startswith(".")
    assert storage.load(key) == b"\x89PNG photo"
    assert storage.save(b"other", suffix=".png") != key  # random keys, never reused
    storage.delete(key)
    assert storage.load(key) is None
    storage.delete(key)  # a second delete is no error


@pytest.mark.parametrize("key", REFUSED_KEYS)
def test_local_storage_refuses_keys_that_are_not_its_own(tmp_path, key):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (tmp_path / "x").write_bytes(b"outside the folder")
    (folder / ".hidden").write_bytes(b"a dotfile")
    (folder / "a").mkdir()
    (folder / "a" / "b").write_bytes(b"in a subfolder")
    storage = LocalStorage(folder)
    assert storage.load(key) is None
    storage.delete(key)
    assert (tmp_path / "x").exists() and (folder / ".hidden").exists()
    assert (folder / "a" / "b").exists()


# -- S3-compatible bucket --------------------------------------------------------------


def test_s3_storage_round_trip_with_content_type(s3_endpoint, raw, bucket):
    storage = s3_storage(s3_endpoint, bucket)
    data = bytes(range(256)) * 64  # every byte value, binary-safe
    key = storage.save(data, suffix=".webp", content_type="image/webp")
    assert key.endswith(".webp") and "/" not in key and not key.startswith(".")
    assert storage.load(key) == data
    head = raw.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/webp"
    assert head["ContentLength"] == len(data)


def test_s3_storage_content_type_defaults_to_octet_stream(s3_endpoint, raw, bucket):
    key = s3_storage(s3_endpoint, bucket).save(b"data", suffix=".bin")
    head = raw.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "application/octet-stream"


def test_s3_storage_missing_key_loads_as_none(s3_endpoint, bucket):
    assert s3_storage(s3_endpoint, bucket).load("0123456789abcdef0123456789abcdef.jpg") is None


def test_s3_storage_missing_bucket_is_an_error_not_a_missing_file(s3_endpoint):
    storage = s3_storage(s3_endpoint, f"facilities-absent-{uuid.uuid4().hex[:12]}")
    with pytest.raises(ClientError, match="NoSuchBucket"):
        storage.load("0123456789abcdef0123456789abcdef.jpg")


def test_s3_storage_delete_removes_the_object(s3_endpoint, raw, bucket):
    storage = s3_storage(s3_endpoint, bucket)
    key = storage.save(b"photo", suffix=".jpg", content_type="image/jpeg")
    storage.delete(key)
    assert storage.load(key) is None
    assert raw.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    storage.delete(key)  # deleting what is gone is no error


@pytest.mark.parametrize("key", REFUSED_KEYS)
def test_s3_storage_refuses_keys_that_are_not_its_own_without_a_request(
    s3_endpoint, raw, bucket, key
):
    raw.put_object(Bucket=bucket, Key="a/b", Body=b"someone else's")
    raw.put_object(Bucket=bucket, Key=".hidden", Body=b"someone else's")
    storage = s3_storage(s3_endpoint, bucket)
    sent = []

    def remember(request, **_kwargs):
        sent.append(request.url)

    storage.client.meta.events.register("before-send.s3", remember)
    try:
        assert storage.load(key) is None
        storage.delete(key)
        assert sent == []
        assert storage.load("0123456789abcdef0123456789abcdef.jpg") is None
        assert len(sent) == 1  # the hook does see the requests that are made
    finally:
        storage.client.meta.events.unregister("before-send.s3", remember)
    assert raw.list_objects_v2(Bucket=bucket)["KeyCount"] == 2


def test_s3_storage_puts_objects_under_the_prefix(s3_endpoint, raw, bucket):
    storage = s3_storage(s3_endpoint, bucket, prefix="/park/uploads/")
    key = storage.save(b"photo", suffix=".jpg", content_type="image/jpeg")
    assert not key.startswith("park")  # the key is the same shape as without a prefix
    listed = raw.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"park/uploads/{key}"]
    assert storage.load(key) == b"photo"
    assert s3_storage(s3_endpoint, bucket).load(key) is None  # not at the top of the bucket
    storage.delete(key)
    assert raw.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_s3_storage_shares_one_client_per_connection(s3_endpoint, bucket):
    first = s3_storage(s3_endpoint, bucket).client
    assert s3_storage(s3_endpoint, bucket, prefix="other").client is first
    assert S3Storage(bucket, endpoint_url=s3_endpoint, region="eu-west-1").client is not first


# -- choosing the backend --------------------------------------------------------------


def test_get_storage_picks_s3_from_the_settings(database_url, s3_endpoint, raw, bucket):
    app = make_test_app(
        database_url,
        storage_backend="s3",
        s3_bucket=bucket,
        s3_endpoint_url=s3_endpoint,
        s3_region=CONNECTION["region"],
        s3_access_key_id="test",
        s3_secret_access_key="test",
        s3_prefix="uploads",
    )
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, S3Storage)
        key = storage.save(b"photo", suffix=".png", content_type="image/png")
        assert get_storage().load(key) == b"photo"
    head = raw.head_object(Bucket=bucket, Key=f"uploads/{key}")
    assert head["ContentType"] == "image/png"


def test_get_storage_is_a_local_folder_by_default(database_url, tmp_path):
    app = make_test_app(database_url, upload_folder=str(tmp_path / "uploads"))
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, LocalStorage)
        assert storage.folder == tmp_path / "uploads"


def test_settings_read_the_storage_variables(monkeypatch):
    monkeypatch.setenv("FACILITIES_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("FACILITIES_S3_BUCKET", "park-uploads")
    monkeypatch.setenv("FACILITIES_S3_ENDPOINT_URL", "https://minio.example.fi:9000")
    monkeypatch.setenv("FACILITIES_S3_PREFIX", "uploads")
    settings = Settings(env="development")
    assert settings.storage_backend == "s3" and settings.s3_bucket == "park-uploads"
    assert settings.s3_endpoint_url == "https://minio.example.fi:9000"
    assert settings.s3_prefix == "uploads"


def test_s3_backend_without_a_bucket_fails_fast(monkeypatch):
    monkeypatch.delenv("FACILITIES_S3_BUCKET", raising=False)
    with pytest.raises(ValueError, match="FACILITIES_S3_BUCKET"):
        Settings(env="development", storage_backend="s3")
    with pytest.raises(ValueError, match="storage_backend"):
        Settings(env="development", storage_backend="ftp")
