"""Security headers of the playground page: a Content-Security-Policy that allows only this
gateway's own files, the page's own inline scripts (by hash, so an injected script would not run)
and calls to this gateway and the sign-in IdP; no framing (clickjacking); no MIME sniffing; no
referrer with the page's URL (it may carry an authorization code after sign-in)."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

# Inline scripts only: `<script>` with no attributes (the files are `<script src=... integrity=...>`).
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def playground_headers(html: str, sign_in_issuer: str | None = None) -> dict[str, str]:
    scripts = " ".join(["'self'", *(_hash(body) for body in _INLINE_SCRIPT.findall(html))])
    connect = "'self'"
    if sign_in_issuer:
        parts = urlsplit(sign_in_issuer)
        connect += f" {parts.scheme}://{parts.netloc}"
    policy = "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",   # GraphiQL's editors style themselves inline
        "img-src 'self' data:",
        "font-src 'self' data:",
        f"connect-src {connect}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ])
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",   # for browsers without frame-ancestors
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
