from django.apps import AppConfig


class ReadersConfig(AppConfig):
    name = "masthead.readers"
    label = "readers"
    verbose_name = "Readers"
