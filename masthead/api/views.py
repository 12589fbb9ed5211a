"""Plain Django views returning JSON. Identity here is the bearer token alone: no session,
no django.contrib.auth.login(), so a browser's cookies never speak for an API request.

CSRF: the token and sign-in-link endpoints are exempt, which is safe because nothing they
do rides on ambient credentials. POST /token takes the e-mail and password (or a link
token or code, with the nonce the app bound the link to) from the body and sets no cookie
(a cross-site page that knows a password gains nothing it could not get itself, and cannot
read the answer); DELETE acts only on the token in the Authorization header, which
browsers never attach on their own. The article endpoint is GET only and needs no
exemption."""

import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import authenticate as check_password
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt

from masthead.access.channels import Channel, Visibility
from masthead.access.context import reader_context
from masthead.access.gate import channel_decision
from masthead.core import clock
from masthead.news.models import ArticlePage
from masthead.readers import actions as reader_actions
from masthead.readers import ratelimit

from . import tokens

OPENAPI_PATH = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
# Trading a link or a code for a token: counted per client IP.
LINK_SCOPE = "sign-in-link-trade"
NAME_MAX_LENGTH = 100
# The nonce an app binds its sign-in links to: at least 128 bits in the URL-safe alphabet.
_NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
_MAX_ID = 2**31 - 1


def _error(status: int, code: str, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _unauthorized() -> JsonResponse:
    return _error(
        401,
        "invalid_token",
        "The token is missing, malformed, expired or revoked.",
        WWW_Authenticate='Bearer realm="api"',
    )


def _not_allowed(allowed: str) -> JsonResponse:
    return _error(405, "method_not_allowed", "Method not allowed.", Allow=allowed)


def _bad_request(message: str) -> JsonResponse:
    return _error(400, "bad_request", message)


def _json_object(request) -> dict:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("The body must be a JSON object.") from error
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    return data


def _token_name(data: dict) -> str:
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"'name' must be a string of at most {NAME_MAX_LENGTH} characters.")
    return name


def _credentials(data: dict) -> tuple[str, str]:
    """e-mail and password from a JSON body; ValueError with a reason if not."""
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise ValueError("'email' and 'password' must be strings.")
    return email, password


@csrf_exempt
def token(request):
    if request.method == "POST":
        response = _issue(request)
    elif request.method == "DELETE":
        response = _revoke(request)
    else:
        response = _not_allowed("POST, DELETE")
    patch_cache_control(response, no_store=True)
    patch_vary_headers(response, ["Authorization", "Cookie"])
    return response


def _limited(verdict) -> JsonResponse:
    return _error(
        429,
        "rate_limited",
        "Too many attempts. Try again later.",
        Retry_After=str(verdict.retry_after),
    )


def _nonce(data: dict) -> str:
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not _NONCE_PATTERN.match(nonce):
        raise ValueError("'nonce' must be 22 to 128 characters of A-Z, a-z, 0-9, - and _.")
    return nonce


def _issue(request):
    """A token for an e-mail and password, or for a sign-in link the app asked for (its
    token, or the code it showed when opened elsewhere, with the app's nonce; consumed
    once, exactly as on the web). Failed passwords count against the same limits as the
    web sign-in (ratelimit.begin_sign_in): the API is another door to the same accounts."""
    try:
        data = _json_object(request)
        name = _token_name(data)
        if "link_token" in data or "code" in data:
            return _issue_from_link(request, data, name)
        email, password = _credentials(data)
    except ValueError as error:
        return _bad_request(str(error))
    attempt = ratelimit.begin_sign_in(request, email)
    if not attempt:
        return _limited(attempt)
    # The backend hashes a password for unknown addresses too: known and unknown e-mails
    # cost the same time and get the same answer.
    user = check_password(request, username=email, password=password)
    if user is None:
        return _error(401, "invalid_credentials", "The e-mail address or password is wrong.")
    ratelimit.sign_in_succeeded(request, attempt)
    return _issued(user, name)


def _issue_from_link(request, data: dict, name: str):
    link_token, code = data.get("link_token"), data.get("code")
    if (link_token is None) == (code is None):
        raise ValueError("Send either 'link_token' or 'code', with 'nonce'.")
    if not isinstance(link_token if code is None else code, str):
        raise ValueError("'link_token' and 'code' must be strings.")
    nonce = _nonce(data)
    verdict = ratelimit.allow(request, LINK_SCOPE)
    if not verdict:
        return _limited(verdict)
    if code is None:
        link = reader_actions.consume_sign_in_link(link_token, nonce=nonce)
    else:
        link = reader_actions.consume_sign_in_code(nonce=nonce, code=code)
    if link is None:
        return _error(
            401,
            "invalid_credentials",
            "The sign-in link is unknown, used, expired or asked for with another nonce.",
        )
    return _issued(link.user, name)


def _issued(user, name: str) -> JsonResponse:
    issued = tokens.issue(user=user, name=name, now=clock.now())
    return JsonResponse(
        {"token": issued.token, "expires_at": issued.expires_at.isoformat()}, status=201
    )


@csrf_exempt
def sign_in_link(request):
    """E-mail a one-time sign-in link; the app opens it (as a universal link) and trades
    its token at POST /token. The same 202 whether or not the address has an account."""
    response = _send_link(request) if request.method == "POST" else _not_allowed("POST")
    patch_cache_control(response, no_store=True)
    return response


def _send_link(request):
    """The link is bound to the nonce the app sends: only a request with that nonce can
    trade it (or its code) for a token, so a link forwarded to someone else is no use."""
    try:
        data = _json_object(request)
        email = data.get("email")
        if not isinstance(email, str):
            raise ValueError("'email' must be a string.")
        nonce = _nonce(data)
    except ValueError as error:
        return _bad_request(str(error))
    verdict = ratelimit.allow(request, "sign-in-link", email)
    if not verdict:
        return _limited(verdict)
    reader_actions.send_sign_in_link(request, email=email, nonce=nonce)
    return JsonResponse(
        {"message": "If an account exists for this address, a sign-in link is on its way."},
        status=202,
    )


def _revoke(request):
    try:
        presented = tokens.bearer_token(request.headers.get("Authorization"))
        if presented is None:
            raise tokens.InvalidToken
        tokens.revoke(presented, clock.now())
    except tokens.InvalidToken:
        return _unauthorized()
    return HttpResponse(status=204)


def _token_user(request):
    """The token's user, or AnonymousUser when no Authorization header was sent."""
    presented = tokens.bearer_token(request.headers.get("Authorization"))
    if presented is None:
        return AnonymousUser()
    return tokens.authenticate(presented, clock.now())


def article(request, article_id: str):
    if request.method not in ("GET", "HEAD"):
        response = _not_allowed("GET, HEAD")
    else:
        response = _article(request, article_id)
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Authorization", "Cookie"])
    return response


def _article(request, article_id: str):
    try:
        # The reader context (the meter's reader) reads request.user: set it before deciding.
        request.user = _token_user(request)
    except tokens.InvalidToken:
        return _unauthorized()
    page = None
    if article_id.isascii() and article_id.isdigit() and 0 < int(article_id) <= _MAX_ID:
        page = (
            ArticlePage.objects.live()
            .public()
            .select_related("series", "sponsor")
            .filter(pk=int(article_id))
            .first()
        )
    if page is None:
        return _error(404, "not_found", "No published article has this id.")
    decision = channel_decision(reader_context(request), page, Channel.API)
    reading = page.reading(request, decision)
    body = [{"type": p.kind, "html": str(p.html)} for p in reading["teaser"] + reading["rest"]]
    return JsonResponse(
        {
            "id": page.pk,
            "url": page.get_full_url(request),
            "headline": page.headline,
            "decks": page.decks,
            "kicker": page.series.title if page.series else None,
            "authors": [
                {"name": a.name, "url": request.build_absolute_uri(a.get_url())}
                for a in page.authors
            ],
            "published": page.published.isoformat(),
            "access": page.access,
            "sponsor": (
                {"name": page.sponsor.name, "disclosure": page.sponsor.disclosure}
                if page.sponsor
                else None
            ),
            "decision": {
                "full": reading["visibility"] == Visibility.FULL,
                "reason": str(decision.reason),
                "message": str(decision.message),
                "remaining": decision.remaining,
            },
            "body": body,
        }
    )


def openapi(request):
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    return HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/yaml")
