from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from members.signals import member_enrolled

        from .handlers import on_member_enrolled

        member_enrolled.connect(on_member_enrolled, dispatch_uid="rewards.welcome_bonus")
