"""Every change to a reader account, shared by the views (and later the app API)."""

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from masthead.core import clock

from . import emails, private_feeds, tokens
from .models import SignInLink

log = logging.getLogger(__name__)


def normalise_email(address: str) -> str:
    return address.strip().lower()


def sign_up(request, *, email: str, password: str, next_url: str = "") -> None:
    """Create an unverified account and send its verification link, whose confirm page
    signs the new reader in. For an address that already has an account nothing is
    created; the address is sent a note on how to sign in instead. The caller answers the
    same either way, and both paths hash the password and queue one e-mail, so neither the
    page nor its timing (nor a mail server that is down) tells anyone whether an address
    has an account."""
    users = get_user_model()
    email = normalise_email(email)
    if not users._default_manager.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                user = users(username=f"reader-{secrets.token_hex(8)}", email=email)
                user.set_password(password)
                user.save()
        except IntegrityError:
            pass  # taken a moment ago by a racing sign-up: treat it as known
        else:
            send_verification(request, user=user, next_url=next_url)
            return
    else:
        make_password(password)  # the same work as a new account, for the same timing
    sign_in = request.build_absolute_uri(reverse("readers:sign-in"))
    reset = request.build_absolute_uri(reverse("readers:password-reset"))
    emails.send("account_exists", to=email, context={"sign_in_url": sign_in, "reset_url": reset})


def find_by_email(address: str):
    users = get_user_model()
    return users._default_manager.filter(
        email__iexact=normalise_email(address), is_active=True
    ).first()


def send_verification(
    request, *, user, to_email: str | None = None, next_url: str = "", deliver: bool = True
) -> None:
    """Send a verification link to the account's address, or to the address it wants to
    change to (the switch happens when that link is opened). next_url, already checked to
    be on this site, is where the confirm page goes on to. deliver=False does the same work
    and queues a blank instead (emails.send_nothing): nothing reaches to_email."""
    to_email = normalise_email(to_email or user.email)
    token = tokens.make_verification_token(
        user_pk=user.pk, from_email=user.email, to_email=to_email
    )
    url = request.build_absolute_uri(reverse("readers:verify-email", args=[token]))
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    context = {"url": url, "changing": to_email != normalise_email(user.email)}
    if deliver:
        emails.send("verify_email", to=to_email, context=context)
    else:
        emails.send_nothing("verify_email", context=context)


def verification_pending(token: str) -> bool:
    """Whether a verification link would still do something (for its confirm page)."""
    claim = tokens.read_verification_token(token)
    if claim is None:
        return False
    return (
        get_user_model()
        ._default_manager.filter(
            pk=claim.user_pk, is_active=True, email__iexact=normalise_email(claim.from_email)
        )
        .exists()
    )


@dataclass(frozen=True)
class Verified:
    user: object
    first: bool  # the account's first confirmed address
    signed_up_here: bool  # confirmed from the browser that signed up (see confirm_address)


def verify_email(token: str, *, signed_up_as: str = "") -> Verified | None:
    """Apply a verification link: mark the address verified, switching to it if the link
    was for a new address. A first confirmation goes through confirm_address(). None when
    the link does nothing."""
    claim = tokens.read_verification_token(token)
    if claim is None:
        return None
    users = get_user_model()
    with transaction.atomic():
        user = users._default_manager.select_for_update().filter(pk=claim.user_pk).first()
        if user is None or not user.is_active:
            return None
        if normalise_email(user.email) != normalise_email(claim.from_email):
            return None  # the address changed since: this link is stale
        first = not user.email_verified
        user.email = claim.to_email
        try:
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError:
            return None  # someone else took the address meanwhile
        signed_up_here = first and confirm_address(user=user, signed_up_as=signed_up_as)
    user.refresh_from_db()
    return Verified(user=user, first=first, signed_up_here=signed_up_here)


def send_welcome(*, user) -> None:
    emails.send("welcome", to=user.email, context={"user": user})


def send_sign_in_link(request, *, email: str, nonce: str, next_url: str = "") -> None:
    """E-mail a one-time sign-in link if the address has an account. For an unknown address
    the link is rendered and queued as a blank (emails.send_nothing) that the worker drops,
    so the two take about as long and answer the same, with the mail server up or down."""
    user = find_by_email(email)
    token, token_hash = tokens.new_link_token()
    url = request.build_absolute_uri(reverse("readers:sign-in-link-confirm", args=[token]))
    minutes = int(tokens.SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
    if user is None:
        emails.send_nothing("sign_in_link", context={"url": url, "minutes": minutes})
        return
    issued = clock.now()
    user.sign_in_links.filter(expires_at__lt=issued).delete()  # housekeeping, per account
    SignInLink.objects.create(
        user=user,
        token_hash=token_hash,
        created_at=issued,
        expires_at=issued + tokens.SIGN_IN_LINK_LIFETIME,
        next_url=next_url,
        nonce_hash=tokens.hash_nonce(nonce),
        code_hash=tokens.hash_code(tokens.link_code(token)),
    )
    emails.send("sign_in_link", to=user.email, context={"url": url, "minutes": minutes})


def _live_links():
    return SignInLink.objects.filter(
        used_at__isnull=True,
        expires_at__gt=clock.now(),
        code_attempts__lt=SignInLink.MAX_CODE_ATTEMPTS,
        user__is_active=True,
    )


def usable_sign_in_link(token: str) -> SignInLink | None:
    return _live_links().filter(token_hash=tokens.hash_link_token(token)).first()


def sign_in_link_asked_here(link: SignInLink, *, nonce: str) -> bool:
    """Whether the browser (or app) holding `nonce` is the one that asked for the link."""
    return link.nonce_hash == tokens.hash_nonce(nonce)


def consume_sign_in_link(token: str, *, nonce: str, signed_up_as: str = "") -> SignInLink | None:
    """Use a link once, from the browser or app that asked for it (the holder of `nonce`).
    The conditional UPDATE is the check and the act in one statement, so two racing POSTs
    cannot both succeed. signed_up_as is the sign-up cookie's tag, if any (confirm_address)."""
    token_hash = tokens.hash_link_token(token)
    used = (
        _live_links()
        .filter(token_hash=token_hash, nonce_hash=tokens.hash_nonce(nonce))
        .update(used_at=clock.now())
    )
    if used != 1:
        return None
    return _signed_in_by(SignInLink.objects.get(token_hash=token_hash), signed_up_as)


def consume_sign_in_code(*, nonce: str, code: str, signed_up_as: str = "") -> SignInLink | None:
    """Use a link by the code it showed in another browser, typed into the browser that
    asked for it. Each try counts against every live link of this nonce before the code is
    compared with it (a conditional UPDATE, so racing tries cannot exceed the limit); after
    MAX_CODE_ATTEMPTS tries a link is spent."""
    nonce_hash = tokens.hash_nonce(nonce)
    code_hash = tokens.hash_code(code)
    for link in _live_links().filter(nonce_hash=nonce_hash):
        # Compared only when this try was counted: racing tries past the limit are not.
        counted = SignInLink.objects.filter(
            pk=link.pk, code_attempts__lt=SignInLink.MAX_CODE_ATTEMPTS
        ).update(code_attempts=F("code_attempts") + 1)
        if not counted or not constant_time_compare(link.code_hash, code_hash):
            continue
        # The try was counted first: a code that matches on the last allowed try still works.
        used = SignInLink.objects.filter(
            pk=link.pk,
            used_at__isnull=True,
            expires_at__gt=clock.now(),
            code_attempts__lte=SignInLink.MAX_CODE_ATTEMPTS,
            user__is_active=True,
        ).update(used_at=clock.now())
        if used == 1:
            return _signed_in_by(SignInLink.objects.get(pk=link.pk), signed_up_as)
    return None


def _signed_in_by(link: SignInLink, signed_up_as: str) -> SignInLink:
    """A used link proves the inbox: a first sign-in by link confirms the address."""
    link = SignInLink.objects.select_related("user").get(pk=link.pk)
    if not link.user.email_verified:
        confirm_address(user=link.user, signed_up_as=signed_up_as)
        link.user.refresh_from_db()
    return link


def confirm_address(*, user, signed_up_as: str = "") -> bool:
    """Mark an account's address confirmed for the first time. Whoever signed up may not
    own the address: unless the confirming browser is the one that signed up (its sign-up
    cookie's tag, signed_up_as, names this address), the password set at sign-up is dropped
    and every session and app token of the account ends, so the owner starts clean and sets
    a password. Returns whether this browser signed up (the password stays)."""
    signed_up_here = bool(signed_up_as) and constant_time_compare(
        signed_up_as, tokens.sign_up_tag(user.email)
    )
    with transaction.atomic():
        locked = get_user_model()._default_manager.select_for_update().get(pk=user.pk)
        if locked.email_verified:
            return signed_up_here
        locked.email_verified = True
        fields = ["email_verified"]
        if not signed_up_here:
            locked.set_unusable_password()
            fields.append("password")
        locked.save(update_fields=fields)
        if not signed_up_here:
            sign_out_everywhere(user=locked)
    return signed_up_here


def sign_out_everywhere(*, user) -> None:
    """A new salt changes the session hash, so every existing session stops validating;
    the reader's private feed address stops working too (private_feeds)."""
    user.session_key_salt = secrets.token_hex(16)
    user.save(update_fields=["session_key_salt"])
    private_feeds.revoke(user=user)


def request_email_change(request, *, user, new_email: str) -> None:
    """Send the verification link to the new address. When another account already has it,
    the link is made and queued as a blank that is never sent: the same work, so the
    caller answers exactly as if it had been, as fast."""
    new_email = normalise_email(new_email)
    users = get_user_model()
    if users._default_manager.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        log.info("e-mail change for user %s to an address in use; nothing sent", user.pk)
        send_verification(request, user=user, to_email=new_email, deliver=False)
        return
    send_verification(request, user=user, to_email=new_email)
