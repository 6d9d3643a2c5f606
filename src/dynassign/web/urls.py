from __future__ import annotations

from django.urls import path

from dynassign.web.views import auth, texter

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
