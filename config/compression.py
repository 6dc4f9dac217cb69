"""Compressed answers: the API's JSON, gzipped when the client accepts it and it is large enough.

Django's GZipMiddleware does the work (its checks: the client's Accept-Encoding names gzip, the
answer has no Content-Encoding yet, the compressed body is shorter; streaming answers are
compressed as they stream; a strong ETag is made weak), restricted here two ways:

- **Only the API's answers** (`/graphql`, `/graphql/`), in the media types it answers with
  (`application/json`, `application/graphql-response+json`). That is where the bytes are (a
  `fetch_all` page of 1,000 memberships is about 44 KB, 6 KB gzipped). Static files are already
  served compressed by whitenoise (gzip and Brotli files made by collectstatic). The admin's HTML
  pages are not compressed, because of BREACH: a compressed page that holds a secret and also
  text an attacker controls (the changelist's `?q=` echoed next to learners' e-mails, the CSRF
  token in every form) leaks the secret through the size of its answers. Django masks the CSRF
  token anew for every answer and its GZipMiddleware pads the gzip header with random bytes
  ("Heal the Breach"), which make the attack slower, not impossible; the admin's pages are small
  and its users few, so the saving is not worth the risk. The API's answers carry no
  credentials (API keys are only ever in request headers, and a webhook secret is shown once,
  in the answer to a POSTed mutation that a cross-site page cannot send or read), and the
  requests a cross-site page can make a browser send with cookies (a GET of a query) cannot be
  read by it (no CORS without a listed origin, never with credentials).
- **At least MIN_LENGTH bytes** (1 KB, roughly the size under which gzip's header and trailer
  and one more round of work on both ends cost about what the compression saves: most error
  answers and single-field reads are shorter).

`Vary: Accept-Encoding` is set on every JSON answer of the API, compressed or not, so that a cache
between the client and the server never hands a gzipped answer to a client that did not ask for
one.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers

#: The paths whose answers are compressed (config/urls.py's two routes of the API).
API_PATHS = frozenset({"/graphql", "/graphql/"})
#: The media types of the API's answers (enrollments/graphql/views.py).
MEDIA_TYPES = ("application/json", "application/graphql-response+json")
#: Bytes below which an answer is sent as it is.
MIN_LENGTH = 1024


class ApiGZipMiddleware(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.path not in API_PATHS:
            return response
        if not response.get("Content-Type", "").startswith(MEDIA_TYPES):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not response.streaming and len(response.content) < MIN_LENGTH:
            return response
        return super().process_response(request, response)
