from __future__ import annotations

from django.urls import path

from dynassign.web.views import admin_campaign, admin_org, auth, dashboard, texter

urlpatterns = [
    path("", texter.todo, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("signup/", auth.signup, name="signup"),
    path("join/<str:token>/", texter.join, name="join"),
    path("assignments/<int:assignment_id>/", texter.texting, name="texting"),
    path("assignments/<int:assignment_id>/request/", texter.request_texts, name="request-texts"),
    path("assignments/<int:assignment_id>/take/", texter.take_conversations, name="take-conversations"),
    path("assignments/<int:assignment_id>/release/", texter.release_contacts, name="release"),
    path("assignments/<int:assignment_id>/replies/", texter.replies, name="replies"),
    path("assignments/<int:assignment_id>/contacts/<int:contact_id>/", texter.conversation, name="conversation"),
    path("assignments/<int:assignment_id>/contacts/<int:contact_id>/send/", texter.send_initial, name="send-initial"),
    path("assignments/<int:assignment_id>/contacts/<int:contact_id>/skip/", texter.skip, name="skip"),
    path("assignments/<int:assignment_id>/contacts/<int:contact_id>/opt-out/", texter.opt_out_contact, name="opt-out"),
]

urlpatterns += [
    path("organizations/new/", admin_org.organization_new, name="organization-new"),
    path("organizations/<int:organization_id>/", admin_org.organization, name="organization"),
    path("organizations/<int:organization_id>/settings/", admin_org.organization_settings, name="organization-settings"),
    path("organizations/<int:organization_id>/members/", admin_org.members, name="members"),
    path("organizations/<int:organization_id>/members/add/", admin_org.invite_member, name="invite-member"),
    path("organizations/<int:organization_id>/members/<int:user_id>/role/", admin_org.change_role, name="change-role"),
    path("organizations/<int:organization_id>/campaigns/new/", admin_campaign.campaign_new, name="campaign-new"),
    path("campaigns/<int:campaign_id>/", admin_campaign.campaign_page, name="campaign"),
    path("campaigns/<int:campaign_id>/edit/", admin_campaign.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:campaign_id>/actions/<str:action>/", admin_campaign.campaign_action, name="campaign-action"),
    path("campaigns/<int:campaign_id>/upload/", admin_campaign.upload_contacts, name="upload-contacts"),
    path("campaigns/<int:campaign_id>/upload/rejected.csv", admin_campaign.upload_report_csv, name="upload-report-csv"),
    path("campaigns/<int:campaign_id>/texters/", admin_campaign.texters, name="texters"),
    path("campaigns/<int:campaign_id>/texters/<int:assignment_id>/max-contacts/", admin_campaign.set_max_contacts,
         name="set-max-contacts"),
    path("campaigns/<int:campaign_id>/reassign/", admin_campaign.reassign_contacts, name="reassign"),
    path("campaigns/<int:campaign_id>/dashboard/", dashboard.dashboard, name="dashboard"),
    path("campaigns/<int:campaign_id>/dashboard/live/", dashboard.live, name="dashboard-live"),
]
