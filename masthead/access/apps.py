from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "masthead.access"
    label = "access"
    verbose_name = "Access and meter"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 - registers the system checks
        from .readers import carry_meter_over_on_sign_in

        # Django's sign-in signal is the public extension point every sign-in path fires.
        user_logged_in.connect(carry_meter_over_on_sign_in, dispatch_uid="masthead-meter-merge")
