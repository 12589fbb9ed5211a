from django.apps import AppConfig


class ReadersConfig(AppConfig):
    name = "masthead.readers"
    label = "readers"
    verbose_name = "Readers"

    def ready(self):
        from django.core.signals import request_finished
        from django.db.models.signals import post_delete, post_save

        from .backends import forget_read_with_session, forget_user
        from .models import User

        for signal in (post_save, post_delete):
            signal.connect(forget_user, sender=User, dispatch_uid=f"readers-user-{id(signal)}")
        request_finished.connect(forget_read_with_session, dispatch_uid="readers-read-ahead")
