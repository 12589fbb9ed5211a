from django.urls import path

from . import views

app_name = "readers"

urlpatterns = [
    path("", views.account, name="account"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-in/link/", views.sign_in_link, name="sign-in-link"),
    # Before the link pattern, which would take "code" for a token.
    path("sign-in/link/code/", views.sign_in_link_code, name="sign-in-link-code"),
    path("sign-in/link/<str:token>/", views.sign_in_link_confirm, name="sign-in-link-confirm"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("sign-out/everywhere/", views.sign_out_everywhere, name="sign-out-everywhere"),
    path("sign-up/", views.sign_up, name="sign-up"),
    path("verify/resend/", views.resend_verification, name="verify-email-resend"),
    path("verify/<str:token>/", views.verify_email, name="verify-email"),
    path("email/", views.change_email, name="change-email"),
    path("name/", views.change_display_name, name="change-display-name"),
    path("feed/", views.private_feed, name="private-feed"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("password/reset/done/", views.password_reset_complete, name="password-reset-complete"),
]
