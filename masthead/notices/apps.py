from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "masthead.notices"
    label = "notices"
    verbose_name = "Notices"
