from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "masthead.demo"
    label = "demo"
    verbose_name = "Demo content"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
