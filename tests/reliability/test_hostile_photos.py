"""Hostile photos: what an upload may carry in, and what a published photo must never carry out.

Every file here is generated with Pillow in the test, so each case is a real image (or a real
non-image) rather than a stand-in.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageOps

from pingan.adapters.media import PhotoCleaner
from pingan.domain.errors import InvalidInput
from pingan.services.evidence import safe_filename
from pingan.services.open311 import create_api_key
from tests.integration.conftest import World

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size: tuple[int, int] = (80, 40), orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with a GPS position, camera make and orientation, a
    comment and an ICC profile."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (30.0, 45.0, 12.5)
    gps[3] = "E"
    gps[4] = (120.0, 45.0, 36.0)
    out = io.BytesIO()
    icc = b"\x00" * 128 + b"fake-profile-with-a-serial-number"
    img.save(out, "JPEG", exif=exif, comment=b"home of the reporter", icc_profile=icc)
    return out.getvalue()


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A bomb: a tiny file whose header promises an enormous image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def png_with_text_bomb() -> bytes:
    """A small valid PNG carrying a compressed text chunk that inflates to 64 MB."""
    base = png((8, 8))
    bomb = b"Comment\x00\x00" + zlib.compress(b"A" * 64_000_000, 9)
    chunk = (
        struct.pack(">I", len(bomb))
        + b"zTXt"
        + bomb
        + struct.pack(">I", zlib.crc32(b"zTXt" + bomb))
    )
    end = base.rindex(b"IEND") - 4
    return base[:end] + chunk + base[end:]


@pytest.fixture(scope="module")
def hundred_megapixels() -> bytes:
    """10 000 × 10 000 one-bit pixels: 100 MP that compress to a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    return out.getvalue()


def served(client: TestClient, attachment_id: int) -> bytes:
    r = client.get(f"/api/v1/attachments/{attachment_id}")
    assert r.status_code == 200, r.text
    return r.content


def test_a_published_photo_carries_no_exif_gps_comment_or_profile(world: World) -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS_IFD), "the test photo must carry GPS to begin with"
    client = world.client("citizen03")
    r = client.post("/api/v1/attachments", files={"file": ("IMG_0001.jpg", original, "image/jpeg")})
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/jpeg"
    body = served(client, r.json()["id"])
    assert b"Exif" not in body and b"PhoneMaker" not in body and b"home of the reporter" not in body
    assert b"fake-profile" not in body and b"http://ns.adobe.com/xap" not in body
    with Image.open(io.BytesIO(body)) as after:
        assert after.format == "JPEG" and after.size == (80, 40)
        assert not after.getexif() and "icc_profile" not in after.info
        assert "comment" not in after.info and "exif" not in after.info


def test_the_camera_orientation_is_applied_before_it_is_stripped() -> None:
    """A portrait photo tagged "rotate 90°" must stay upright once the tag is gone."""
    original = jpeg_with_gps(size=(80, 40), orientation=6)
    clean = PhotoCleaner(40_000_000)(original)
    with Image.open(io.BytesIO(clean.data)) as after, Image.open(io.BytesIO(original)) as before:
        upright = ImageOps.exif_transpose(before)
        assert after.size == upright.size == (40, 80)
        assert not after.getexif()
        # the blue half moved with the rotation
        assert after.getpixel((20, 5))[2] > 150 and after.getpixel((20, 75))[0] > 150


def test_a_hundred_megapixel_png_is_refused_from_its_header(
    world: World, hundred_megapixels: bytes
) -> None:
    assert len(hundred_megapixels) < 2_000_000
    client = world.client("citizen03")
    started = time.perf_counter()
    r = client.post(
        "/api/v1/attachments", files={"file": ("big.png", hundred_megapixels, "image/png")}
    )
    assert time.perf_counter() - started < 2.0
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "attachment.too_many_pixels"
    assert r.json()["error"]["params"]["max_pixels"] == world.rt.settings.max_image_pixels


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(png_header_only(60_000, 60_000), id="header-promises-3.6-gigapixels"),
        pytest.param(png_header_only(7_000, 7_000), id="header-promises-49-megapixels"),
    ],
)
def test_a_decompression_bomb_is_refused_without_decoding(bomb: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as refused:
        PhotoCleaner(40_000_000)(bomb)
    assert refused.value.code == "attachment.too_many_pixels"
    assert time.perf_counter() - started < 0.5


def test_a_text_chunk_bomb_is_refused_as_a_bad_image() -> None:
    with pytest.raises(InvalidInput) as refused:
        PhotoCleaner(40_000_000)(png_with_text_bomb())
    assert refused.value.code == "attachment.bad_type"


def test_the_pixel_limit_is_a_setting() -> None:
    assert PhotoCleaner(10_000)(png((100, 100))).width == 100
    with pytest.raises(InvalidInput):
        PhotoCleaner(9_999)(png((100, 100)))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"<?php system($_GET['c']); ?>", id="php"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 200, id="jpeg-magic-then-garbage"),
        pytest.param(png((20, 20))[:60], id="truncated-png"),
        pytest.param(b"GIF89a" + b"\x00" * 100, id="gif"),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, id="pdf"),
    ],
)
def test_a_non_image_named_jpg_is_refused(world: World, payload: bytes) -> None:
    r = world.client("citizen03").post(
        "/api/v1/attachments", files={"file": ("photo.jpg", payload, "image/jpeg")}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "attachment.bad_type"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.png"),
        ("..\\..\\windows\\win.ini", "win.png"),
        ("photo.jpg.php", "photo_jpg.png"),
        ("evil\x00.php.png", "evil%00_php.png"),  # the client escapes NUL in the header
        ("<script>alert(1)</script>.png", "script.png"),
    ],
)
def test_hostile_upload_names_are_stored_for_display_only(
    world: World, name: str, expected: str
) -> None:
    client = world.client("citizen03")
    data = png((12, 12), "RGB")
    r = client.post("/api/v1/attachments", files={"file": (name, data, "image/png")})
    assert r.status_code == 201, r.text
    with world.rt.uows(readonly=True) as uow:
        att = uow.attachments.get(r.json()["id"])
    assert att is not None
    assert "/" not in att.filename and "\\" not in att.filename and "\x00" not in att.filename
    assert att.filename.endswith(".png") and ".php" not in att.filename
    assert att.filename == expected
    # the name on disk is the content hash, inside the media root
    media_root = Path(world.rt.settings.media_dir).resolve()
    stored = (media_root / att.storage_key).resolve()
    assert media_root in stored.parents and stored.name == att.sha256
    assert served(client, r.json()["id"]) == stored.read_bytes()


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("evil\x00.php.png", "image/png", "evil_php.png"),
        ("shell.php", "image/jpeg", "shell.jpg"),
        ("2026.11.29 路口.jpeg", "image/webp", "2026_11_29 路口.webp"),
        ("....", "image/png", "photo.png"),
        ("", "image/png", "photo.png"),
        ("a" * 500 + ".jpg", "image/jpeg", "a" * 196 + ".jpg"),
    ],
)
def test_a_display_name_ends_in_the_real_type_and_nothing_else(
    name: str, content_type: str, expected: str
) -> None:
    assert safe_filename(name, content_type) == expected


def test_a_photo_uploaded_through_open311_is_stripped_too(world: World) -> None:
    with world.rt.uows() as uow:
        key = create_api_key(uow, "hostile photo app", world.clock.now)
    grid = world.grids()[0]
    r = world.client().post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "E0102", "lat": grid.lat, "long": grid.lng},
        files={"media": ("gps.jpg", jpeg_with_gps(), "image/jpeg")},
    )
    assert r.status_code == 200, r.text
    with world.rt.uows(readonly=True) as uow:
        case = uow.cases.get_by_tracking_no(r.json()[0]["service_request_id"])
        assert case is not None and len(case.photo_ids) == 1
        att = uow.attachments.get(case.photo_ids[0])
    assert att is not None and att.content_type == "image/jpeg"
    body = (Path(world.rt.settings.media_dir) / att.storage_key).read_bytes()
    assert b"Exif" not in body and b"PhoneMaker" not in body
