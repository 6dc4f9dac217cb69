"""The GraphQL endpoint (`/graphql` and `/graphql/`): graphene-django's view with this API's
authentication, CSRF policy, limits, error format and GraphQL-over-HTTP status codes.

Authentication, in order:

1. An API key, in any of the three header styles of apikeys.auth (`Authorization: Bearer`,
   `Authorization: Basic` as Healthie sends it, `X-Teachify-API-Key`): the request is the key's
   user and nothing else. Its session cookie, if any, is ignored, and a bad key is refused
   (401), never "retried" as the session. No CSRF check: a browser cannot attach either header
   with a value of the page's choosing to a cross-site request without a CORS preflight, which
   this site answers only for the origins an operator lists (`CORS_ALLOWED_ORIGINS`, none by
   default; docs/api.md "Browsers on other origins"), and then never with credentials: a page
   of a listed origin sends its own key, never the staff member's cookies. It never challenges
   for Basic credentials either, so a browser holds none to replay: a keyed request is never a
   forged one.
2. Otherwise the browser session (Django's log-in). A signed-in session must pass Django's CSRF
   check on POST, exactly as a form would: the view is exempted from the middleware only so
   that keyed requests can skip it, and re-runs the same check itself for sessions (as Django
   REST framework's SessionAuthentication does). Anonymous requests have no session to abuse:
   they are not checked and get UNAUTHENTICATED from every field.

GraphiQL is served to signed-in staff sessions only (it sends the CSRF token itself), from the
app's own static files (enrollments/templates/enrollments/graphiql.html): no CDN.

Rate limits (apikeys.ratelimit): each API key, and each signed-in user, has a budget of queries
and of mutations per minute; past it the answer is HTTP 429 with Retry-After and TOO_MANY_REQUESTS.

Status codes and media type follow the GraphQL-over-HTTP specification (`response_media_type`,
`graphql_status`): the response is `application/graphql-response+json` when the client's Accept
header prefers it, else `application/json` (no Accept, `*/*` and legacy clients). With
`application/json` every well-formed GraphQL request answers 200, parse and validation errors
included; with `application/graphql-response+json` a request that fails before execution (no
`data` in the answer: parse, validation, limits) answers 400. Either way, what is refused before
GraphQL runs keeps its HTTP status: a malformed HTTP request 400 (or 405), a bad key 401, a
failed CSRF check 403, a spent budget 429. And what fails on the server's side is a 5xx in both
media types, always as JSON (`answers_server_failures_in_json`), never Django's HTML error page:
500 INTERNAL_SERVER_ERROR when execution itself failed (a bug; the answer carries an error id,
the log the traceback with it), 503 SERVICE_UNAVAILABLE while the database does not answer. (A
single field that fails with a bug is an error in `errors` next to the other fields' `data`:
200, as the specification asks.)
"""

import functools
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationType,
    get_operation_ast,
)

from apikeys import idempotency, permission_cache, ratelimit
from apikeys.auth import InvalidAPIKey, authenticate_api_key
from enrollments.graphql import execution, persisted, statement_timeout, versions
from enrollments.graphql.anonymous import hide_schema_hints
from enrollments.graphql.document_walk import DocumentWalk
from enrollments.graphql.errors import (
    BAD_REQUEST,
    CSRF_FAILED,
    INTERNAL_SERVER_ERROR,
    QUERY_TOO_LARGE,
    UNAUTHENTICATED,
    ApiError,
    format_error,
    internal_error,
    is_database_unavailable,
    service_unavailable,
)
from enrollments.graphql.extension_range import extension_range_errors
from enrollments.graphql.limits import limits
from enrollments.graphql.request_body import BadRequestBody, decode_request


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, returning the failure reason instead of a response."""

    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def csrf_failure(request: HttpRequest) -> str | None:
    """Why the request fails Django's CSRF check, or None when it passes."""
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, None, (), {})


def _error_response(
    status: int, code: str, message: str, extensions: dict | None = None, **headers: str
) -> HttpResponse:
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]}
    )
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def response_media_type(request: HttpRequest) -> str:
    """The media type of the answer: graphql-response+json when the client prefers it,
    application/json otherwise (listed first, so `*/*` and no Accept get it, as the
    specification asks during its watershed)."""
    if not request.headers.get("Accept"):
        return JSON
    return request.get_preferred_type([JSON, GRAPHQL_RESPONSE_JSON]) or JSON


def graphql_status(media_type: str, *, has_data: bool) -> int:
    """The status of a well-formed GraphQL request's answer. `has_data` is False when it
    failed before execution (parse, validation, limits): graphql-response+json says 400 then;
    application/json always 200 (its clients read `errors`, and several report any 4xx as a
    network failure)."""
    if media_type == GRAPHQL_RESPONSE_JSON and not has_data:
        return 400
    return 200


def answers_in_the_negotiated_media_type(view: Callable[..., HttpResponse]):
    """Gives every JSON answer of `view` (GraphQL results and every refusal: 400, 401, 403, 405,
    429) the media type the client asked for; GraphiQL's HTML page keeps its own."""

    @functools.wraps(view)
    def negotiated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.get("Content-Type", "").startswith(JSON):
            response["Content-Type"] = response_media_type(request)
        return response

    return negotiated


def answers_server_failures_in_json(view: Callable[..., HttpResponse]):
    """Answers whatever `view` raises (the API key or session look-up, execution, anything but
    the refusals it answers itself) as the API's JSON error instead of Django's HTML 500 page:
    503 SERVICE_UNAVAILABLE when the database does not answer, else 500 INTERNAL_SERVER_ERROR.
    Both are logged at ERROR with the traceback and the error id the answer carries."""

    @functools.wraps(view)
    def answering(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Exception as raised:  # noqa: BLE001 - every failure gets the API's answer
            if connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block:
                transaction.set_rollback(True)  # the view answers; nothing of it may commit
            if is_database_unavailable(raised):
                status, error = 503, service_unavailable(raised)
            else:
                status, error = 500, internal_error(raised)
            return HttpResponse(
                json.dumps({"errors": [error.formatted]}), status=status, content_type=JSON
            )

    return answering


def _rate_limited(limited: ratelimit.RateLimited) -> HttpResponse:
    return _error_response(
        429,
        ratelimit.TOO_MANY_REQUESTS,
        limited.message,
        limited.extensions(),
        **{"Retry-After": str(limited.retry_after)},
    )


#: Mutations that talk to the outside world (an HTTP request to a webhook's URL) and change
#: nothing: a keyed request runs in one transaction holding its key's row lock, which must not
#: wait on another server, so a document with one of these ignores its Idempotency-Key (sending
#: a test event twice is harmless). docs/api.md, "Retrying a mutation".
SENDS_TO_THE_OUTSIDE = frozenset({"sendTestWebhook"})


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(answers_in_the_negotiated_media_type, name="dispatch")
# The version header (versions.py): outside the failures' answer, so that a 500 or 503 carries
# the version's Vary and warnings too; inside the media type, which a refusal gets as well.
@method_decorator(versions.selects_version, name="dispatch")
@method_decorator(answers_server_failures_in_json, name="dispatch")
class ApiView(GraphQLView):
    graphiql = True
    graphiql_template = "enrollments/graphiql.html"  # graphene-django's loads from a CDN
    batch = False  # one operation per request: batching would multiply every limit

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.schema = versions.selected(request).schema  # the requested API version's
        if request.method not in ("GET", "POST", "HEAD", "OPTIONS"):
            # graphene-django's 405 at once: a PUT carrying a persisted query's hash got the
            # hash's answer (PERSISTED_QUERY_NOT_FOUND, 200), which tells Apollo to send the
            # text again by the same method.
            return super().dispatch(request, *args, **kwargs)
        try:
            api_key = authenticate_api_key(request)
        except InvalidAPIKey as error:
            return _error_response(
                401, UNAUTHENTICATED, error.message, **{"WWW-Authenticate": "Bearer"}
            )
        try:  # anonymous requests, per client address, before their body is even decoded
            ratelimit.enforce_anonymous(request)
        except ratelimit.RateLimited as limited:
            return _rate_limited(limited)
        try:  # every content type, the query string too (request_body); before the CSRF
            # check, which reads form bodies itself
            self.request_data = decode_request(request, batch=self.batch)
        except BadRequestBody as error:
            return _error_response(error.status, BAD_REQUEST, error.message)
        if api_key is not None:
            permission_cache.load_permissions(api_key)  # read once per key, kept briefly
        if api_key is None and request.user.is_authenticated:
            reason = csrf_failure(request)
            if reason is not None:
                return _error_response(403, CSRF_FAILED, f"CSRF check failed: {reason}")
        try:  # Apollo's persisted queries and the trusted documents (persisted.py)
            self.request_data = persisted.resolve(request, self.request_data)
        except persisted.Refused as refused:
            status = refused.status or graphql_status(response_media_type(request), has_data=False)
            return _error_response(status, refused.code, refused.message, **refused.headers)
        anonymous = self.anonymous = not request.user.is_authenticated
        self.validation_rules = execution.validation_rules(anonymous=anonymous)
        try:
            keyed = self.idempotent_request(request)  # apikeys.idempotency: None unless keyed
            if keyed is not None:
                return idempotency.run_once(
                    **keyed, respond=lambda: super(ApiView, self).dispatch(request, *args, **kwargs)
                )
            return super().dispatch(request, *args, **kwargs)
        except ratelimit.RateLimited as limited:  # raised by execute_graphql_request
            return _rate_limited(limited)
        except idempotency.Refused as refused:
            return _error_response(refused.status, refused.code, refused.message, **refused.headers)
        except idempotency.OutcomeUnknown as unknown:
            return _error_response(500, INTERNAL_SERVER_ERROR, unknown.message)

    def idempotent_request(self, request: HttpRequest) -> dict[str, str] | None:
        """The client, key and fingerprint of a request that apikeys.idempotency runs once: a
        POSTed mutation operation with an Idempotency-Key from an API key or a signed-in user.
        None for every other request (a malformed key is refused all the same: Refused)."""
        key = idempotency.requested_key(request)
        client = ratelimit.client_id(request)
        data = self.request_data
        if key is None or client is None or request.method != "POST" or not isinstance(data, dict):
            return None
        try:
            # The parameters graphene-django executes, not the body's alone: the query
            # string's win over the body's, and operationName "null" names no operation. A
            # fingerprint of anything else would let a retry run twice, or replay the answer
            # to another request.
            query, variables, operation_name, _id = self.get_graphql_params(request, data)
        except HttpError:
            return None  # variables that are not JSON: answered 400, nothing runs
        if not isinstance(query, str) or len(query) > limits().max_query_length:
            return None
        document = execution.parsed(query)
        if isinstance(document, GraphQLError) or not isinstance(operation_name, str | None):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.MUTATION:
            return None
        # The mutation fields it runs, through fragments; a field under @skip/@include on a
        # variable counts as run (document_walk: never less than any execution of it).
        walk = DocumentWalk(document, schema=self.schema.graphql_schema)
        # __typename beside a mutation is no mutation (apikeys.ratelimit counts it out too).
        fields = {nodes[0].name.value for nodes in walk.root_fields(operation).values()}
        fields.discard("__typename")
        if fields & SENDS_TO_THE_OUTSIDE:
            if fields - SENDS_TO_THE_OUTSIDE:  # its other mutations would run unkeyed
                raise idempotency.Refused(
                    422,
                    idempotency.IDEMPOTENCY_KEY_NOT_APPLICABLE,
                    "An Idempotency-Key cannot cover sendTestWebhook beside other mutations: "
                    "send the test in a request of its own",
                )
            return None  # runs unkeyed: no transaction held open while a webhook is called
        fingerprint = idempotency.fingerprint(
            client=client,
            document=document,
            variables=variables,
            operation_name=operation_name,
        )
        fingerprint = versions.fingerprinted(fingerprint, request)  # answers differ by version
        return {"client": client, "key": key, "fingerprint": fingerprint}

    def get_response(self, request, data, show_graphiql=False):
        result, status = super().get_response(request, data, show_graphiql)
        # graphene-django answers 400 exactly when it leaves `data` out (an error before
        # execution); the media type decides what that status should be.
        return result, graphql_status(response_media_type(request), has_data=status != 400)

    def parse_body(self, request: HttpRequest) -> Any:
        return self.request_data  # decoded by dispatch (request_body.decode_request)

    def can_display_graphiql(self, request: HttpRequest, data: Any) -> bool:  # type: ignore[override]
        user = request.user
        return (
            getattr(request, "api_key", None) is None
            and user.is_authenticated
            and user.is_staff
            and super().can_display_graphiql(request, data)
        )

    def execute_graphql_request(
        self, request, data, query, variables, operation_name, show_graphiql=False
    ):
        if query is not None and not isinstance(query, str):  # e.g. {"query": 5} in JSON
            raise HttpError(HttpResponseBadRequest("The query must be a string."))
        if variables is not None and not isinstance(variables, dict):  # e.g. [1]: graphql-core
            # would raise a TypeError during execution, answered as the server's failure
            raise HttpError(HttpResponseBadRequest("The variables must be a JSON object."))
        if operation_name is not None and not isinstance(operation_name, str):
            raise HttpError(HttpResponseBadRequest("The operationName must be a string."))
        max_length = limits().max_query_length
        too_large = bool(query) and len(query) > max_length
        document = None
        if query and not too_large:
            # Parsed once per distinct document (execution.parsed, an LRU cache); a syntax
            # error is reported by execute_request below.
            document = execution.parsed(query)
            if isinstance(document, GraphQLError):
                document = None
        # Rate limit per API key / signed-in user (apikeys.ratelimit), before anything runs:
        # raises RateLimited, which dispatch answers with 429 and Retry-After.
        ratelimit.enforce(request, document, operation_name)
        if too_large:
            return ExecutionResult(
                errors=[
                    ApiError(
                        QUERY_TOO_LARGE,
                        f"The query is {len(query)} characters long; the limit is {max_length}",
                    )
                ]
            )
        # The contract's error before GraphQL's generic one, once authenticated (anonymous).
        if document is not None and request.user.is_authenticated:
            errors = extension_range_errors(self.schema.graphql_schema, document, variables)
            if errors:
                return ExecutionResult(errors=errors)
        # graphene-django's steps over the cached document, executed synchronously; a query's
        # reads on the connection with PostgreSQL's statement timeout (statement_timeout.py).
        with statement_timeout.reads_of(document, operation_name):
            return execution.execute_request(
                self, request, query, variables, operation_name, show_graphiql
            )

    anonymous = True  # until dispatch knows better

    def format_error(self, error: Exception) -> dict[str, Any]:  # type: ignore[override]
        formatted = format_error(error)
        return hide_schema_hints(formatted) if self.anonymous else formatted
