from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "masthead.access"
    label = "access"
    verbose_name = "Access and meter"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from . import checks  # noqa: F401 - registers the system checks
        from .gate import carry_meter_over_on_sign_in, forget_meter_settings
        from .models import MeterSettings

        # Django's sign-in signal is the public extension point every sign-in path fires.
        user_logged_in.connect(carry_meter_over_on_sign_in, dispatch_uid="masthead-meter-merge")
        post_save.connect(
            forget_meter_settings, sender=MeterSettings, dispatch_uid="masthead-meter"
        )
