from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from members.signals import member_data_requested, member_erased

        from .handlers import on_member_data_requested, on_member_erased

        member_erased.connect(on_member_erased, dispatch_uid="campaigns.erase")
        member_data_requested.connect(on_member_data_requested, dispatch_uid="campaigns.member_data")
