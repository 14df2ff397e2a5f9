from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views, views_keys
from .forms import EmailAuthenticationForm

app_name = "merchants"

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("merchants:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("merchants:password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("merchants:password_change_done")),
        name="password_change",
    ),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("shop/new/", views.merchant_create, name="merchant_create"),
    path("shop/new/defaults/", views.country_defaults, name="country_defaults"),
    path("shop/settings/", views.merchant_settings, name="settings"),
    path("shop/switch/", views.merchant_switch, name="switch"),
    path("locations/", views.location_list, name="locations"),
    path("locations/new/", views.location_edit, name="location_create"),
    path("locations/<int:pk>/", views.location_edit, name="location_edit"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("invitations/<int:pk>/resend/", views.invitation_action, {"action": "resend"}, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_action, {"action": "revoke"}, name="invitation_revoke"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("audit/", views.audit_log, name="audit_log"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/review/", views.alert_review, name="alert_review"),
    path("shop/api-keys/", views_keys.api_keys, name="api_keys"),
    path("shop/api-keys/<int:pk>/revoke/", views_keys.api_key_revoke, name="api_key_revoke"),
    path("healthz", views.healthz, name="healthz"),
]
