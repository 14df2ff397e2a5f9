from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("members/", views.Members.as_view(), name="members"),
    path("members/<int:pk>/", views.MemberDetail.as_view(), name="member"),
    path("members/<int:pk>/history/", views.MemberHistory.as_view(), name="member_history"),
    path("purchases/", views.Purchases.as_view(), name="purchases"),
    path("purchases/<int:pk>/", views.PurchaseDetail.as_view(), name="purchase"),
    path("purchases/<int:pk>/refunds/", views.PurchaseRefunds.as_view(), name="purchase_refunds"),
    path("rewards/", views.Rewards.as_view(), name="rewards"),
    path("redemptions/", views.Redemptions.as_view(), name="redemptions"),
    path("redemptions/<int:pk>/", views.RedemptionDetail.as_view(), name="redemption"),
    path("redemptions/<int:pk>/use/", views.RedemptionUse.as_view(), name="redemption_use"),
    path("redemptions/<int:pk>/void/", views.RedemptionVoid.as_view(), name="redemption_void"),
    path("adjustments/", views.Adjustments.as_view(), name="adjustments"),
]
