"""Reader account pages. Every way of signing in ends in django.contrib.auth.login(), whose
user_logged_in signal carries the anonymous meter over to the account (access.readers)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import actions, forms, ratelimit

BACKEND = "masthead.readers.backends.EmailBackend"
TOO_MANY = 429


def safe_next(request, value: str | None = None) -> str:
    """The requested next= page if it is on this site, else ""."""
    if value is None:
        value = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _limited(request, template: str, context: dict):
    context = {**context, "limited": True}
    return render(request, template, context, status=TOO_MANY)


class SignInView(auth_views.LoginView):
    form_class = forms.SignInForm
    template_name = "readers/sign_in.html"
    redirect_authenticated_user = True
    scope = "sign-in"

    def post(self, request, *args, **kwargs):
        account = request.POST.get("username", "")
        if not ratelimit.allow(request, self.scope, account):
            # An unbound form: a bound one would authenticate when the template reads it.
            form = self.form_class(request, initial={"username": account})
            return _limited(request, self.template_name, self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        ratelimit.reset_account(self.scope, self.request.POST.get("username", ""))
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def sign_in_link(request):
    template = "readers/sign_in_link.html"
    next_url = safe_next(request)
    if request.method == "POST":
        account = request.POST.get("email", "")
        if not ratelimit.allow(request, "sign-in-link", account):
            form = forms.EmailForm(initial={"email": account})
            return _limited(request, template, {"form": form, "next": next_url})
        form = forms.EmailForm(request.POST)
        if form.is_valid():
            actions.send_sign_in_link(request, email=form.cleaned_data["email"], next_url=next_url)
            return render(request, "readers/sign_in_link_sent.html")
    else:
        form = forms.EmailForm()
    return render(request, template, {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def sign_in_link_confirm(request, token):
    """GET only shows a button: mail scanners fetch links, and must not use them up."""
    if request.method == "POST":
        link = actions.consume_sign_in_link(token)
        if link is None:
            return render(request, "readers/sign_in_link_invalid.html", status=400)
        login(request, link.user, backend=BACKEND)
        destination = safe_next(request, link.next_url)
        return redirect(destination or resolve_url(settings.LOGIN_REDIRECT_URL))
    if actions.usable_sign_in_link(token) is None:
        return render(request, "readers/sign_in_link_invalid.html", status=400)
    return render(request, "readers/sign_in_link_confirm.html")


@require_http_methods(["GET", "POST"])
def sign_up(request):
    template = "readers/sign_up.html"
    next_url = safe_next(request)
    if request.user.is_authenticated:
        return redirect("readers:account")
    if request.method == "POST":
        if not ratelimit.allow(request, "sign-up"):
            return _limited(request, template, {"form": forms.SignUpForm(), "next": next_url})
        form = forms.SignUpForm(request.POST)
        if form.is_valid():
            actions.sign_up(
                request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                next_url=next_url,
            )
            return render(request, "readers/sign_up_sent.html")
    else:
        form = forms.SignUpForm()
    return render(request, template, {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def verify_email(request, token):
    """GET only shows a button, as for sign-in links: a mail scanner that fetches the link
    must not confirm an address (or switch an account to a new one). The POST confirms;
    the first confirmation of a new account also signs it in, since the link proves the
    inbox is the reader's, and goes on to the page the reader signed up from."""
    next_url = safe_next(request)
    if request.method == "GET":
        if not actions.verification_pending(token):
            return render(request, "readers/verify_invalid.html", status=400)
        return render(request, "readers/verify_confirm.html", {"next": next_url})
    user, first = actions.verify_email(token)
    if user is None:
        return render(request, "readers/verify_invalid.html", status=400)
    if first:
        actions.send_welcome(user=user)
        if request.user != user:
            login(request, user, backend=BACKEND)
        if next_url:
            messages.info(request, _("Thank you: your e-mail address is confirmed."))
            return redirect(next_url)
    return render(request, "readers/verified.html", {"verified_email": user.email})


@login_required
@require_POST
def resend_verification(request):
    if not ratelimit.allow(request, "verify", request.user.email):
        return _limited(request, "readers/account.html", {})
    if not request.user.email_verified:
        actions.send_verification(request, user=request.user)
    messages.info(request, _("We have sent you a new link to confirm your e-mail address."))
    return redirect("readers:account")


@login_required
def account(request):
    return render(request, "readers/account.html")


@login_required
@require_http_methods(["GET", "POST"])
def change_email(request):
    template = "readers/change_email.html"
    if request.method == "POST":
        if not ratelimit.allow(request, "change-email", request.user.email):
            return _limited(request, template, {"form": forms.ChangeEmailForm(user=request.user)})
        form = forms.ChangeEmailForm(request.POST, user=request.user)
        if form.is_valid():
            actions.request_email_change(
                request, user=request.user, new_email=form.cleaned_data["email"]
            )
            return render(request, "readers/change_email_sent.html")
    else:
        form = forms.ChangeEmailForm(user=request.user)
    return render(request, template, {"form": form})


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
        if not ratelimit.allow(request, "password-reset", account):
            form = self.form_class(initial={"email": account})
            return _limited(request, self.template_name, self.get_context_data(form=form))
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
