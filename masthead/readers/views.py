"""Reader account pages. Every way of signing in ends in django.contrib.auth.login(), whose
user_logged_in signal carries the anonymous meter over to the account (access.readers), and
marks the browser as one the account signed in from (ratelimit.remember_device)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.signing import BadSignature
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST

from masthead.core import clock, links

from . import actions, forms, private_feeds, ratelimit, tokens

BACKEND = "masthead.readers.backends.EmailBackend"
TOO_MANY = 429


def safe_next(request, value: str | None = None) -> str:
    """The requested next= page if it is on this site, else ""."""
    if value is None:
        value = request.POST.get("next") or request.GET.get("next") or ""
    return links.safe_next(request, value)


def _limited(request, template: str, context: dict, verdict: ratelimit.Verdict):
    context = {**context, "limited": True}
    response = render(request, template, context, status=TOO_MANY)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _signed_cookie(request, name: str, salt: str, max_age) -> str:
    try:
        return request.get_signed_cookie(name, default="", salt=salt, max_age=max_age)
    except BadSignature:
        return ""


def _set_signed_cookie(response, name: str, value: str, salt: str, max_age) -> None:
    response.set_signed_cookie(
        name,
        value,
        salt=salt,
        max_age=int(max_age.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _link_nonce(request) -> str:
    """The nonce of the sign-in links this browser asked for ("" if none, or too old)."""
    return _signed_cookie(
        request, tokens.LINK_NONCE_COOKIE, tokens.LINK_NONCE_SALT, tokens.SIGN_IN_LINK_LIFETIME
    )


def _signed_up_as(request) -> str:
    """The sign-up cookie's tag: which address this browser signed up with, if any."""
    return _signed_cookie(
        request, tokens.SIGN_UP_COOKIE, tokens.SIGN_UP_SALT, tokens.VERIFY_MAX_AGE
    )


def _sign_in(request, user, account: str, destination: str):
    """Sign `user` in on this browser, remember the browser for the account, and go on."""
    login(request, user, backend=BACKEND)
    response = redirect(destination or resolve_url(settings.LOGIN_REDIRECT_URL))
    ratelimit.remember_device(response, request, account)
    return response


class PublicationNamed:
    """For Django's LoginView and LogoutView, which name the site after the request's host
    ("127.0.0.1:8000") in their context: extra_context is applied last, so the
    publication's name wins."""

    extra_context = {"site_name": settings.MASTHEAD_SITE_NAME}


class SignInView(PublicationNamed, auth_views.LoginView):
    """Password sign-in. Failed passwords are limited per account and client network and
    per network (ratelimit.begin_sign_in); this browser, once signed in, is exempt for the
    account, so a stranger's failures never lock its owner out."""

    form_class = forms.SignInForm
    template_name = "readers/sign_in.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        account = request.POST.get("username", "")
        self.attempt = ratelimit.begin_sign_in(request, account)
        if not self.attempt:
            # An unbound form: a bound one would authenticate when the template reads it.
            form = self.form_class(request, initial={"username": account})
            context = self.get_context_data(form=form)
            return _limited(request, self.template_name, context, self.attempt)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        ratelimit.sign_in_succeeded(self.request, self.attempt)
        response = super().form_valid(form)
        ratelimit.remember_device(response, self.request, self.attempt.account)
        return response


@require_http_methods(["GET", "POST"])
def sign_in_link(request):
    """Ask for a sign-in link. The link works only in this browser: it is bound to a nonce
    kept in a signed cookie (one nonce for every link asked for here while it lasts). The
    page that follows takes the code a link shows when opened elsewhere."""
    template = "readers/sign_in_link.html"
    next_url = safe_next(request)
    if request.method == "POST":
        account = request.POST.get("email", "")
        verdict = ratelimit.allow(request, "sign-in-link", account)
        if not verdict:
            form = forms.EmailForm(initial={"email": account})
            return _limited(request, template, {"form": form, "next": next_url}, verdict)
        form = forms.EmailForm(request.POST)
        if form.is_valid():
            nonce = _link_nonce(request) or tokens.new_nonce()
            actions.send_sign_in_link(
                request, email=form.cleaned_data["email"], nonce=nonce, next_url=next_url
            )
            response = render(
                request, "readers/sign_in_link_sent.html", {"form": forms.SignInCodeForm()}
            )
            _set_signed_cookie(
                response,
                tokens.LINK_NONCE_COOKIE,
                nonce,
                tokens.LINK_NONCE_SALT,
                tokens.SIGN_IN_LINK_LIFETIME,
            )
            return response
    else:
        form = forms.EmailForm()
    return render(request, template, {"form": form, "next": next_url})


def _other_browser(request, token: str, status: int = 200):
    """A link opened where it was not asked for: it signs nothing in here, and shows the
    code to type into the browser that asked."""
    code = tokens.link_code(token)
    return render(request, "readers/sign_in_link_elsewhere.html", {"code": code}, status=status)


@require_http_methods(["GET", "POST"])
def sign_in_link_confirm(request, token):
    """GET only shows a button (mail scanners fetch links, and must not use them up), and
    only in the browser that asked for the link; anywhere else, the link's code."""
    link = actions.usable_sign_in_link(token)
    if link is None:
        return render(request, "readers/sign_in_link_invalid.html", status=400)
    nonce = _link_nonce(request)
    if not actions.sign_in_link_asked_here(link, nonce=nonce):
        return _other_browser(request, token, status=403 if request.method == "POST" else 200)
    if request.method == "POST":
        link = actions.consume_sign_in_link(token, nonce=nonce, signed_up_as=_signed_up_as(request))
        if link is None:
            return render(request, "readers/sign_in_link_invalid.html", status=400)
        return _sign_in(request, link.user, link.user.email, safe_next(request, link.next_url))
    return render(request, "readers/sign_in_link_confirm.html")


@require_POST
def sign_in_link_code(request):
    """The code a link showed in another browser, typed into the browser that asked."""
    form = forms.SignInCodeForm(request.POST)
    nonce = _link_nonce(request)
    link = None
    if form.is_valid() and nonce:
        link = actions.consume_sign_in_code(
            nonce=nonce, code=form.cleaned_data["code"], signed_up_as=_signed_up_as(request)
        )
    if link is None:
        if form.is_valid():
            form.add_error("code", forms.SignInCodeForm.wrong_code)
        return render(request, "readers/sign_in_link_sent.html", {"form": form}, status=400)
    return _sign_in(request, link.user, link.user.email, safe_next(request, link.next_url))


def _buying(next_url: str) -> bool:
    """Whether this sign-up is a step of a purchase (it goes on to a checkout), to say so."""
    return bool(next_url) and urlsplit(next_url).path.startswith(reverse("subscribe"))


@require_http_methods(["GET", "POST"])
def sign_up(request):
    """Sign up. The response sets a signed cookie naming the address (for known and unknown
    addresses alike), so that confirming it from this browser keeps the password chosen
    here and signs in; confirmed anywhere else, that password is dropped."""
    template = "readers/sign_up.html"
    next_url = safe_next(request)
    if request.user.is_authenticated:
        return redirect("readers:account")
    if request.method == "POST":
        verdict = ratelimit.allow(request, "sign-up")
        if not verdict:
            form = forms.SignUpForm()
            return _limited(request, template, {"form": form, "next": next_url}, verdict)
        form = forms.SignUpForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            actions.sign_up(
                request, email=email, password=form.cleaned_data["password"], next_url=next_url
            )
            response = render(request, "readers/sign_up_sent.html", {"next": next_url})
            _set_signed_cookie(
                response,
                tokens.SIGN_UP_COOKIE,
                tokens.sign_up_tag(email),
                tokens.SIGN_UP_SALT,
                tokens.VERIFY_MAX_AGE,
            )
            return response
    else:
        form = forms.SignUpForm()
    context = {"form": form, "next": next_url, "buying": _buying(next_url)}
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def verify_email(request, token):
    """GET only shows a button, as for sign-in links: a mail scanner that fetches the link
    must not confirm an address (or switch an account to a new one). The POST confirms.
    A first confirmation signs in only the browser that signed up (it asked for this
    account) and goes on to the page it signed up from; any other browser is signed into
    nothing, and the account starts clean (actions.confirm_address)."""
    next_url = safe_next(request)
    if request.method == "GET":
        if not actions.verification_pending(token):
            return render(request, "readers/verify_invalid.html", status=400)
        return render(request, "readers/verify_confirm.html", {"next": next_url})
    verified = actions.verify_email(token, signed_up_as=_signed_up_as(request))
    if verified is None:
        return render(request, "readers/verify_invalid.html", status=400)
    user = verified.user
    signs_in = verified.first and verified.signed_up_here
    if verified.first:
        actions.send_welcome(user=user)
    if signs_in and next_url:
        # Straight on to the page the reader signed up from (a checkout, a story), with no
        # flash message: a story's frame is shared and shows none, and one left pending
        # would pop up later on an unrelated page. Being signed in there says it worked.
        return _sign_in(request, user, user.email, next_url)
    context = {
        "verified_email": user.email,
        "needs_password": verified.first and not verified.signed_up_here,
        "next": next_url,
    }
    response = render(request, "readers/verified.html", context)
    if signs_in:
        login(request, user, backend=BACKEND)
        ratelimit.remember_device(response, request, user.email)
    return response


@login_required
@require_POST
def resend_verification(request):
    verdict = ratelimit.allow(request, "verify", request.user.email)
    if not verdict:
        return _limited(request, "readers/account.html", {}, verdict)
    if not request.user.email_verified:
        actions.send_verification(request, user=request.user)
    messages.info(request, _("We have sent you a new link to confirm your e-mail address."))
    return redirect("readers:account")


@cache_control(private=True)  # the reader's plan and payments, whatever the middleware does
@login_required
def account(request):
    name_form = forms.DisplayNameForm(instance=request.user)
    context = {"name_form": name_form, "private_feed": private_feeds.has_feed(request.user)}
    return render(request, "readers/account.html", context)


@cache_control(private=True, no_store=True)  # the one time the feed's address is shown
@login_required
@require_POST
def private_feed(request):
    """Make the reader's private feed, or reset its address; "off" revokes it."""
    if request.POST.get("action") == "off":
        private_feeds.revoke(user=request.user)
        messages.info(request, _("Your private feed is turned off; its address no longer works."))
        return redirect("readers:account")
    secret = private_feeds.issue(user=request.user, now=clock.now())
    url = request.build_absolute_uri(f"/feed/private/{secret}/")
    return render(
        request, "readers/private_feed.html", {"feed_url": url, "atom_url": url + "atom/"}
    )


@cache_control(private=True)
@login_required
@require_POST
def change_display_name(request):
    form = forms.DisplayNameForm(request.POST, instance=request.user)
    if not form.is_valid():
        return render(request, "readers/account.html", {"name_form": form}, status=400)
    form.save()
    messages.info(request, _("Your display name is saved."))
    return redirect("readers:account")


@cache_control(private=True)  # shows the reader's address
@login_required
@require_http_methods(["GET", "POST"])
def change_email(request):
    template = "readers/change_email.html"
    if request.method == "POST":
        verdict = ratelimit.allow(request, "change-email", request.user.email)
        if not verdict:
            form = forms.ChangeEmailForm(user=request.user)
            return _limited(request, template, {"form": form}, verdict)
        form = forms.ChangeEmailForm(request.POST, user=request.user)
        if form.is_valid():
            actions.request_email_change(
                request, user=request.user, new_email=form.cleaned_data["email"]
            )
            return render(request, "readers/change_email_sent.html")
    else:
        form = forms.ChangeEmailForm(user=request.user)
    return render(request, template, {"form": form})


class SignOutView(PublicationNamed, auth_views.LogoutView):
    """Django's sign-out (POST, CSRF-checked, then home), and on GET a page with the one
    button that signs out. The site header's menu links here instead of carrying a form:
    a form needs the reader's CSRF token, and Django masks it afresh for every response
    (32 random characters), which made every page a signed-in reader opened about a tenth
    dearer. A GET never signs anyone out, so a link to it cannot either."""

    http_method_names = ["get", "post", "options"]
    template_name = "readers/sign_out.html"
    next_page = "/"


@login_required
@require_POST
def sign_out_everywhere(request):
    actions.sign_out_everywhere(user=request.user)
    logout(request)
    return redirect("/")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, which already answers the same for unknown addresses, with our
    templates and the per-account and per-IP limits."""

    form_class = forms.PasswordResetForm
    template_name = "readers/password_reset.html"
    subject_template_name = "readers/email/password_reset_subject.txt"
    email_template_name = "readers/email/password_reset.txt"
    html_email_template_name = "readers/email/password_reset.html"
    success_url = reverse_lazy("readers:password-reset-sent")

    @property
    def extra_email_context(self):
        return {"site_name": settings.MASTHEAD_SITE_NAME}

    def post(self, request, *args, **kwargs):
        account = request.POST.get("email", "")
        verdict = ratelimit.allow(request, "password-reset", account)
        if not verdict:
            form = self.form_class(initial={"email": account})
            context = self.get_context_data(form=form)
            return _limited(request, self.template_name, context, verdict)
        return super().post(request, *args, **kwargs)


password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="readers/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    form_class=forms.SetPasswordForm,
    template_name="readers/password_reset_confirm.html",
    success_url=reverse_lazy("readers:password-reset-complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="readers/password_reset_complete.html"
)
