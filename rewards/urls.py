from django.urls import path

from . import views

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
]
