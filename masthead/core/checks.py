"""`check --deploy` refuses a sender readers' mail servers would reject or mark as spam: the
placeholder address the settings fall back to, or no address at all."""

from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Error, Tags, register

# Domains that are never a newsroom's own: what the settings, Django and examples default
# to, and the names reserved for tests and documentation (RFC 2606, RFC 6761).
PLACEHOLDER_DOMAINS = {"localhost.localdomain", "example.com", "example.net", "example.org"}
RESERVED_TOP_LEVEL = {"localhost", "example", "invalid", "test", "local"}


def placeholder_sender(value: str) -> bool:
    """Whether a From header is missing or names a placeholder domain."""
    address = parseaddr(value or "")[1]
    if "@" not in address:
        return True
    domain = address.rsplit("@", 1)[1].lower().rstrip(".")
    if domain.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL:
        return True
    return any(domain == known or domain.endswith(f".{known}") for known in PLACEHOLDER_DOMAINS)


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
