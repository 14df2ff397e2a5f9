from django.urls import path

from . import counter, views, views_export, views_import
from .kpis import views as kpis

app_name = "rewards"

urlpatterns = [
    path("program/", views.program_edit, name="program"),
    path("tiers/", views.tier_list, name="tiers"),
    path("tiers/new/", views.tier_edit, name="tier_create"),
    path("tiers/<int:pk>/", views.tier_edit, name="tier_edit"),
    path("rewards/", views.reward_list, name="catalog"),
    path("rewards/new/", views.reward_edit, name="reward_create"),
    path("rewards/<int:pk>/", views.reward_edit, name="reward_edit"),
    path("members/<int:pk>/", views.member_detail, name="member"),
    path("members/<int:pk>/purchase/preview/", views.purchase_preview, name="purchase_preview"),
    path("members/<int:pk>/purchase/", views.purchase_record, name="purchase"),
    path("members/<int:pk>/rewards/<int:reward_pk>/redeem/", views.reward_redeem, name="redeem"),
    path("members/<int:pk>/vouchers/<int:voucher_pk>/use/", views.voucher_use, name="voucher_use"),
    path("members/<int:pk>/vouchers/<int:voucher_pk>/void/", views.voucher_void, name="voucher_void"),
    path("members/<int:pk>/tier-fee/", views.tier_fee_record, name="tier_fee"),
    path("members/<int:pk>/adjust/", views.points_adjust, name="adjust"),
    path("members/<int:pk>/purchases/<int:purchase_pk>/refund/", views.purchase_refund, name="refund"),
    path("reports/refund-shortfalls/", views.refund_shortfalls, name="shortfalls"),
    path("privacy/retention/", views.retention_preview, name="retention_preview"),
    # Adjustments above the owner's limit, waiting for their approval.
    path("approvals/", views.approval_list, name="approvals"),
    path("approvals/<int:pk>/approve/", views.approval_decide, {"decision": "approve"}, name="approval_approve"),
    path("approvals/<int:pk>/decline/", views.approval_decide, {"decision": "decline"}, name="approval_decline"),
    # The dashboard's cards, loaded by the console home.
    path("dashboard/activity/", kpis.kpi_activity, name="kpi_activity"),
    path("dashboard/redemption/", kpis.kpi_redemption, name="kpi_redemption"),
    path("dashboard/retention/", kpis.kpi_retention, name="kpi_retention"),
    path("dashboard/liability/", kpis.kpi_liability, name="kpi_liability"),
    path("dashboard/tiers/", kpis.kpi_tiers, name="kpi_tiers"),
    # Imports: upload, map the columns, check, import; progress and the rows to fix.
    path("members/import/", views_import.import_start, name="import"),
    path("members/import/template.csv", views_import.import_template, name="import_template"),
    path("members/import/<int:pk>/", views_import.import_job, name="import_job"),
    path("members/import/<int:pk>/map/", views_import.import_map, name="import_map"),
    path("members/import/<int:pk>/apply/", views_import.import_apply, name="import_apply"),
    path("members/import/<int:pk>/cancel/", views_import.import_cancel_view, name="import_cancel"),
    path("members/import/<int:pk>/resume/", views_import.import_resume_view, name="import_resume"),
    path("members/import/<int:pk>/progress/", views_import.import_progress, name="import_progress"),
    path("members/import/<int:pk>/invalid.csv", views_import.import_invalid_csv, name="import_invalid"),
    # Exports: the shop's members, points history and vouchers as CSV or XLSX.
    path("members/export/", views_export.export_page, name="export"),
    path("members/export/members.<str:fmt>", views_export.export_members, name="export_members"),
    path("members/export/ledger.<str:fmt>", views_export.export_ledger, name="export_ledger"),
    path("members/export/vouchers.<str:fmt>", views_export.export_vouchers, name="export_vouchers"),
    # The counter: find or enrol, then the member's panel and its actions.
    path("counter/", counter.counter, name="counter"),
    path("counter/location/", counter.counter_location, name="counter_location"),
    path("counter/enrol/", counter.counter_enrol, name="counter_enrol"),
    path("counter/members/<int:pk>/", counter.counter_member, name="counter_member"),
    path("counter/members/<int:pk>/purchase/", counter.counter_purchase, name="counter_purchase"),
    path("counter/members/<int:pk>/rewards/<int:reward_pk>/redeem/", counter.counter_redeem, name="counter_redeem"),
    path(
        "counter/members/<int:pk>/vouchers/<int:voucher_pk>/use/",
        counter.counter_voucher_use,
        name="counter_voucher_use",
    ),
    path("counter/members/<int:pk>/card/", counter.counter_card_link, name="counter_card_link"),
    path(
        "counter/members/<int:pk>/cards/<int:card_pk>/replace/",
        counter.counter_card_replace,
        name="counter_card_replace",
    ),
    path(
        "counter/members/<int:pk>/purchases/<int:purchase_pk>/undo/",
        counter.counter_purchase_undo,
        name="counter_purchase_undo",
    ),
    path(
        "counter/members/<int:pk>/redemptions/<int:redemption_pk>/undo/",
        counter.counter_redemption_undo,
        name="counter_redemption_undo",
    ),
]
