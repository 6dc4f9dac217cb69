"""Decoding a GraphQL HTTP request: one decoder for every way a client may send one, answering
every fault as the API's own JSON error (BAD_REQUEST), never as Django's HTML pages.

graphene-django decodes each content type its own way: an `application/graphql` body that is
not UTF-8 raised UnicodeDecodeError (an HTML 500 with a traceback, for anonymous clients too),
a body over Django's upload limit raised RequestDataTooBig outside its error handling (Django's
HTML 400), and query strings and form bodies were decoded leniently, invalid bytes silently
replaced. Here every source is decoded strictly, the same way:

| source | read as |
| --- | --- |
| the query string (any method) | urlencoded, UTF-8 |
| `application/json` | UTF-8 JSON; an object (or, when batching, a non-empty array) |
| `application/graphql` | UTF-8: the whole body is the document |
| `application/x-www-form-urlencoded` | UTF-8 |
| `multipart/form-data` | UTF-8 and within the limit as a whole, then Django's parser; no file |
| anything else, or no body | no parameters from the body |

A GET's (and HEAD's) body is never read, whatever its Content-Type: its parameters are the
query string's. Apollo Client's `useGETForQueries` sends `Content-Type: application/json` on its
GETs, which have no body.

A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB) and more than
`DATA_UPLOAD_MAX_NUMBER_FIELDS` form fields are refused like any other bad body.

A body sent with `Content-Encoding: gzip` is inflated first (request_encoding.py), up to that
same limit: past it the answer is HTTP 413 before anything is decoded or run (a zip bomb inflates
no further than the limit). Another encoding is HTTP 415.
"""

import json
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from enrollments.graphql import request_encoding


class BadRequestBody(Exception):
    """The request cannot be decoded; `message` says why (the client sees it), `status` is the
    answer's HTTP status (400, 413 for an inflated body over the limit, 415 for an encoding this
    endpoint does not read)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def content_type(request: HttpRequest) -> str:
    """The media type of the body, lower-cased, without parameters."""
    meta = request.META
    return meta.get("CONTENT_TYPE", meta.get("HTTP_CONTENT_TYPE", "")).split(";", 1)[0].lower()


def decode_request(request: HttpRequest, *, batch: bool = False) -> Any:
    """The request's GraphQL parameters from its body (a dict; a list when batching), once the
    query string and the body have both been decoded strictly. Raises BadRequestBody."""
    _check_query_string(request)
    if request.method in ("GET", "HEAD"):
        return {}  # graphene-django reads the query string's parameters itself
    kind = content_type(request)
    if kind == "multipart/form-data":
        return _multipart(request)
    body = _body(request)
    if kind == "application/graphql":
        return {"query": _utf8(body)}
    if kind == "application/json":
        return _json(_utf8(body), batch=batch)
    if kind == "application/x-www-form-urlencoded":
        return dict(_form_fields(_utf8(body)))
    return {}


def _too_big() -> BadRequestBody:
    return BadRequestBody(
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
    )


def _too_many_fields() -> BadRequestBody:
    return BadRequestBody(
        f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters were sent."
    )


def _body(request: HttpRequest) -> bytes:
    try:
        body = request.body
    except RequestDataTooBig:
        raise _too_big() from None
    try:
        return request_encoding.decoded_body(request, body)
    except request_encoding.UnsupportedEncoding as error:
        raise BadRequestBody(error.message, 415) from None
    except request_encoding.InflatedTooLarge as error:
        raise BadRequestBody(error.message, 413) from None
    except request_encoding.CorruptBody as error:
        raise BadRequestBody(error.message) from None


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequestBody(
            f"The request body is not UTF-8 text (invalid byte at position {error.start})."
        ) from None


def _form_fields(text: str) -> list[tuple[str, str]]:
    """Name/value pairs of urlencoded `text`; percent-escapes must decode to UTF-8 too."""
    try:
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except UnicodeDecodeError:
        raise BadRequestBody("A parameter is not UTF-8 text once percent-decoded.") from None
    except ValueError:  # parse_qsl's max_num_fields
        raise _too_many_fields() from None


def _check_query_string(request: HttpRequest) -> None:
    """Refuses a query string that Django's lenient request.GET would decode with
    replacement characters (graphene reads `query`, `variables` and `operationName` there)."""
    raw = request.META.get("QUERY_STRING", "")
    try:
        text = raw.encode("latin-1").decode("utf-8")  # WSGI hands the raw bytes as latin-1
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadRequestBody("The query string is not UTF-8 text.") from None
    _form_fields(text)


def _json(text: str, *, batch: bool) -> Any:
    try:
        data = json.loads(text)
    except RecursionError:  # nested thousands deep: json.loads gives up
        raise BadRequestBody("The JSON body is nested too deeply.") from None
    except ValueError:
        raise BadRequestBody("POST body sent invalid JSON.") from None
    if batch:
        if not isinstance(data, list) or not data:
            raise BadRequestBody("Batch requests should receive a non-empty list.")
    elif not isinstance(data, dict):
        raise BadRequestBody("The received data is not a valid JSON query.")
    return data


def _multipart(request: HttpRequest) -> Any:
    """The form fields of a multipart body, read as the other bodies are: whole, within the
    size limit (Django's parser leaves file parts out of it and spools them to disk), and as
    UTF-8 (its parser replaces invalid bytes). The API takes no file, so the whole body is
    text: ASCII boundaries and headers, UTF-8 fields; a file part is refused."""
    if request_encoding.content_encoding(request):
        raise BadRequestBody("A multipart body cannot be sent with a Content-Encoding.", 415)
    _utf8(_body(request))  # within DATA_UPLOAD_MAX_MEMORY_SIZE, whatever its parts
    try:
        fields, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise _too_big() from None
    except TooManyFieldsSent:
        raise _too_many_fields() from None
    except (MultiPartParserError, SuspiciousOperation) as error:
        raise BadRequestBody(f"The multipart body cannot be read: {error}") from None
    if files:
        raise BadRequestBody("A multipart body cannot carry files: the API takes none.")
    return fields
