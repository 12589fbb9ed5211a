from django.core.management.base import BaseCommand

from masthead.demo.loader import demo_password, load_demo


class Command(BaseCommand):
    help = "Build the demo publication. Safe to run again: existing content is left alone."

    def handle(self, *args, **options):
        report = load_demo()
        if report.created:
            self.stdout.write(f"Created {len(report.created)} objects.")
        else:
            self.stdout.write("Demo content already loaded; nothing changed.")
        self.stdout.write(
            f"Admin: /admin/  user 'admin' (editor: 'editor'), password '{demo_password()}'"
        )
