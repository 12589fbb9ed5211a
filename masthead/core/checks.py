"""`check --deploy` refuses a sender readers' mail servers would reject or mark as spam: the
placeholder address the settings fall back to, or no address at all."""

from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Error, Tags, register

# Domains that are never a newsroom's own: what the settings, Django and examples default to.
PLACEHOLDER_DOMAINS = {"localhost", "localhost.localdomain", "example.com", "example.org"}


def placeholder_sender(value: str) -> bool:
    """Whether a From header is missing or names a placeholder domain."""
    address = parseaddr(value or "")[1]
    if "@" not in address:
        return True
    domain = address.rsplit("@", 1)[1].lower().rstrip(".")
    return domain in PLACEHOLDER_DOMAINS or domain.endswith((".localhost", ".example.com"))


@register(Tags.security, deploy=True)
def check_mail_sender(app_configs, **kwargs):
    if settings.MASTHEAD_DEMO or not placeholder_sender(settings.DEFAULT_FROM_EMAIL):
        return []
    return [
        Error(
            f"E-mail to readers would be sent from {settings.DEFAULT_FROM_EMAIL!r}, a placeholder.",
            hint="Set MASTHEAD_MAIL_FROM_ADDRESS to an address of your domain (and "
            "MASTHEAD_MAIL_FROM_NAME if the publication's name is not what readers should see).",
            id="masthead.E040",
        )
    ]
