"""Compressed request bodies: `Content-Encoding: gzip` inflated with a bound on the result.

A client may gzip a large mutation's variables (Apollo Link and `gql` can; a 1,000-item
`fetch_all` reconciliation's ids compress tenfold). The compressed body is read under Django's
own bound (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB, request_body.py); inflating it is bounded by
that same limit: zlib is asked for at most limit + 1 bytes, so a zip bomb (a few KB that would
inflate to gigabytes) costs at most the limit's memory and is refused with InflatedTooLarge
(HTTP 413) before anything is decoded, authenticated further or run. Several gzip members one
after the other are one body (RFC 1952), each inflated within the one bound.

`identity` (or no header) leaves the body as it is; `x-gzip` is gzip (RFC 9110); any other
coding (deflate, br, zstd, several codings) is UnsupportedEncoding (HTTP 415, as RFC 7694 asks
of a server that does not read a request's coding).
"""

import zlib

from django.conf import settings
from django.http import HttpRequest


class UnsupportedEncoding(Exception):
    def __init__(self, coding: str) -> None:
        self.message = f"Content-Encoding {coding!r} is not supported; send gzip or no encoding."
        super().__init__(self.message)


class InflatedTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.message = f"The request body inflates to more than {limit} bytes."
        super().__init__(self.message)


class CorruptBody(Exception):
    def __init__(self) -> None:
        self.message = "The request body is not valid gzip data."
        super().__init__(self.message)


def content_encoding(request: HttpRequest) -> str:
    """The request's content coding, lower-cased; "" for none or identity."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    return "" if coding == "identity" else coding


def decoded_body(request: HttpRequest, body: bytes) -> bytes:
    """`body` inflated as its Content-Encoding says (unchanged without one)."""
    coding = content_encoding(request)
    if not coding:
        return body
    if coding not in ("gzip", "x-gzip"):
        raise UnsupportedEncoding(coding)
    return inflate_gzip(body, limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def inflate_gzip(data: bytes, *, limit: int) -> bytes:
    """The gzip stream `data` inflated, at most `limit` bytes; raises InflatedTooLarge past it,
    CorruptBody for data that is not gzip (or is cut short)."""
    parts: list[bytes] = []
    size = 0
    remaining = data
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
        try:
            part = inflater.decompress(remaining, limit - size + 1)
        except zlib.error:
            raise CorruptBody() from None
        size += len(part)
        if size > limit:
            raise InflatedTooLarge(limit)
        if not inflater.eof:
            if inflater.unconsumed_tail:  # stopped at the bound with input left
                raise InflatedTooLarge(limit)
            raise CorruptBody()  # the stream ends before its trailer
        parts.append(part)
        remaining = inflater.unused_data
        if not remaining:
            return b"".join(parts)
