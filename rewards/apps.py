from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from members.signals import member_data_requested, member_enrolled

        from .handlers import on_member_data_requested, on_member_enrolled, on_rules_changed
        from .models import Program, Tier

        member_enrolled.connect(on_member_enrolled, dispatch_uid="rewards.welcome_bonus")
        member_data_requested.connect(on_member_data_requested, dispatch_uid="rewards.member_data")
        for model in (Program, Tier):
            for signal in (post_save, post_delete):
                signal.connect(on_rules_changed, sender=model, dispatch_uid=f"rewards.rules.{model.__name__}.{signal}")
