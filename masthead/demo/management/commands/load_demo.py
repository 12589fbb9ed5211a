from django.conf import settings
from django.core.management.base import BaseCommand

from masthead.demo.accounts import demo_password
from masthead.demo.guard import require_demo
from masthead.demo.loader import load_demo
from masthead.demo.renditions import make_renditions


class Command(BaseCommand):
    help = (
        "Build the demo publication (needs MASTHEAD_DEMO=true: it creates accounts with a "
        "published password). Safe to run again: existing content is left alone."
    )

    def handle(self, *args, **options):
        require_demo("load_demo")
        report = load_demo()
        if settings.MASTHEAD_DEMO_RENDITIONS:
            make_renditions(self.stdout.write)
        if report.created:
            self.stdout.write(f"Created {len(report.created)} objects.")
        else:
            self.stdout.write("Demo content already loaded; nothing changed.")
        self.stdout.write(
            f"Admin: /admin/  user 'admin' (editor: 'editor'), password '{demo_password()}'"
        )
        self.stdout.write(
            "Readers: /account/sign-in/  subscriber@example.com (subscribed) and "
            f"reader@example.com (not), password '{demo_password()}'; test card "
            "4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined"
        )
