from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from . import actions, emails


class AccessibleErrorsMixin:
    """Points each invalid input at its error text (aria-describedby) and marks it invalid,
    so screen readers announce the error with the field. The templates render the error
    with the id used here: <auto id>_error."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            described = [f"{bound.auto_id}_error"]
            if self.fields[name].help_text:
                described.append(f"{bound.auto_id}_helptext")
            attrs = self.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = " ".join(described)


def email_field(label=None, autocomplete="email"):
    return forms.EmailField(
        label=label or _("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": autocomplete}),
    )


class SignInForm(AccessibleErrorsMixin, auth_forms.AuthenticationForm):
    """Password sign-in by e-mail address. The field keeps Django's name ("username") so
    LoginView and our backend need nothing special."""

    username = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    # The same words when the address is not confirmed yet (backends.EmailBackend), so the
    # answer says nothing about the account; the page says to confirm first.
    error_messages = {
        "invalid_login": _("That e-mail address and password did not match. Please try again."),
        "inactive": _("That e-mail address and password did not match. Please try again."),
    }


class SignInCodeForm(AccessibleErrorsMixin, forms.Form):
    """The code a sign-in link shows when it is opened in another browser."""

    wrong_code = _("That code does not match a sign-in link asked for in this browser.")
    code = forms.RegexField(
        label=_("Code from the link"),
        regex=r"^\s*[0-9]{6}\s*$",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"invalid": _("The code is six digits.")},
    )


class EmailForm(AccessibleErrorsMixin, forms.Form):
    email = email_field()


class SignUpForm(AccessibleErrorsMixin, forms.Form):
    email = email_field()
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not a common password and not only numbers."),
    )

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = get_user_model()(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class ChangeEmailForm(AccessibleErrorsMixin, forms.Form):
    email = email_field(label=_("New e-mail address"))
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That password is not right."), code="password")
        return password

    def clean_email(self):
        email = self.cleaned_data["email"]
        if email.strip().lower() == self.user.email.lower():
            raise forms.ValidationError(_("That is already your e-mail address."), code="same")
        return email


class DisplayNameForm(AccessibleErrorsMixin, forms.ModelForm):
    """The name the site's header shows for the account (empty: the e-mail address)."""

    class Meta:
        model = get_user_model()
        fields = ["display_name"]
        labels = {"display_name": _("Display name")}
        help_texts = {
            "display_name": _(
                "How the site names you in its header. Leave it empty to see "
                "your e-mail address there."
            )
        }

    def save(self, commit=True):
        user = super().save(commit=False)
        if commit:
            user.save(update_fields=["display_name"])  # nothing else of a stale instance
        return user


class PasswordResetForm(AccessibleErrorsMixin, auth_forms.PasswordResetForm):
    """Django's reset, with the e-mail queued rather than sent in the request (Django's
    send_mail would also swallow a mail-server error). An address without an active account
    gets the same work: the e-mail rendered and queued as a blank the worker drops, so
    neither the answer nor its timing tells the two apart."""

    email = email_field()

    def get_users(self, email):
        """Django's, but an account without a usable password may reset too: confirming an
        address from another browser drops the password set at sign-up
        (actions.confirm_address), and this is how the owner sets one."""
        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        return (u for u in users if u.email.casefold() == email.casefold())

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        self.queued = True
        emails.send("password_reset", to=context["email"], context=context)

    def save(self, *, request=None, use_https=False, **kwargs):
        self.queued = False
        super().save(request=request, use_https=use_https, **kwargs)
        if not self.queued:
            emails.send_nothing(
                "password_reset",
                context={
                    "email": self.cleaned_data["email"],
                    "domain": request.get_host() if request else "",
                    "protocol": "https" if use_https else "http",
                    "uid": "MA",  # what a link looks like; this one is never sent
                    "token": "set-password",
                },
            )


class SetPasswordForm(AccessibleErrorsMixin, auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's help text is an HTML list; our field template shows plain text.
        self.fields["new_password1"].help_text = SignUpForm.base_fields["password"].help_text

    def save(self, commit=True):
        """A reset link proves the inbox, so it confirms an unconfirmed address first: the
        sign-up password and every session end (confirm_address), then the new password is
        set and works."""
        if commit and not self.user.email_verified:
            actions.confirm_address(user=self.user)
            self.user.refresh_from_db()
        return super().save(commit=commit)
