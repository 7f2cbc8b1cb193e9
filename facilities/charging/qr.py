"""QR codes that open a charger's fault form on the phone that scans them."""

from __future__ import annotations

import io

import segno

from facilities.charging.models import Charger
from facilities.core.outbox import absolute_url


def report_url(charger: Charger) -> str:
    return absolute_url(f"/charging/{charger.code}/report")


def qr_svg(charger: Charger, *, scale: int = 4) -> bytes:
    out = io.BytesIO()
    # error correction M: survives a scratched sticker; a title for screen readers
    segno.make(report_url(charger), error="m").save(
        out,
        kind="svg",
        scale=scale,
        border=2,
        title=f"QR {charger.code}",
        svgclass="qr",
        lineclass=None,
        xmldecl=False,
        nl=False,
    )
    return out.getvalue()


def qr_png(charger: Charger, *, scale: int = 10) -> bytes:
    out = io.BytesIO()
    segno.make(report_url(charger), error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
