from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token an app holds for a reader (Wagtail's own APIToken is another thing:
    hence related_name "app_tokens"). Only the SHA-256 of the token is stored, so a
    database leak hands out no live tokens; revoked_at, expires_at and signing out
    everywhere end it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="The app or device, if given.")
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The account's session salt when the token was issued: "sign out everywhere" changes
    # the salt, and a token whose salt no longer matches is dead, like the sessions.
    session_salt = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"API token {self.pk} for user {self.user_id}"
