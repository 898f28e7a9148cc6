"""A crew's photo made safe to keep: checked to be an image Pillow can read (JPEG, PNG, WebP),
turned upright by its EXIF orientation, and re-encoded from its pixels alone, so no metadata
(EXIF, GPS position, camera serial, embedded thumbnails) survives; plus a small thumbnail."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# What the phone sends, and what each is kept as (a photo as JPEG; a PNG screenshot stays PNG).
ACCEPTED = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "JPEG", "MPO": "JPEG"}
EXTENSION = {"JPEG": "jpg", "PNG": "png"}
CONTENT_TYPE = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes  # JPEG


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def photo_clean(upload: IO[bytes]) -> Photo:
    """Read, check and re-encode an uploaded photo; ValidationError ({"file": …}) if it is not
    an image this system keeps."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = int(settings.ATTACHMENT_MAX_PIXELS)
            image = Image.open(upload)
            kind = image.format or ""
            if kind not in ACCEPTED:
                raise _refuse(
                    _("Only photos (JPEG, PNG or WebP) are accepted, not %(kind)s.")
                    % {"kind": kind or _("this file")}
                )
            image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse(_("This file is not a photo (JPEG, PNG or WebP).")) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The photo has too many pixels.")) from None
    upright = ImageOps.exif_transpose(image) or image
    keep_as = ACCEPTED[kind]
    if keep_as == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    # A fresh image from the pixels: no info, no EXIF, no ICC-embedded text, no thumbnail.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    if keep_as == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)
    thumb = clean.convert("RGB")
    size = int(settings.ATTACHMENT_THUMBNAIL_PX)
    thumb.thumbnail((size, size))
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return Photo(
        content=out.getvalue(),
        content_type=CONTENT_TYPE[keep_as],
        extension=EXTENSION[keep_as],
        width=clean.width,
        height=clean.height,
        thumbnail=thumb_out.getvalue(),
    )
