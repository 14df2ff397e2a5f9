from django.urls import path

from . import counter, views

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
