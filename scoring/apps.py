from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Qualified-lead definition and scoring"

    def ready(self) -> None:
        from leads.signals import lead_activity

        from .receivers import on_lead_activity

        lead_activity.connect(on_lead_activity, dispatch_uid="scoring.receivers.on_lead_activity")
