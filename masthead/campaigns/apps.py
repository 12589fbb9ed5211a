from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "masthead.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .fetch import invalidate_on_change
        from .models import Banner, FreeAccessWindow

        # The cached campaigns must not outlive an edit in the admin; the only business rule
        # here is "forget the cache", so a signal is the right tool.
        for model in (Banner, FreeAccessWindow):
            uid = f"masthead-campaigns-{model._meta.model_name}"
            post_save.connect(invalidate_on_change, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(invalidate_on_change, sender=model, dispatch_uid=f"{uid}-delete")
