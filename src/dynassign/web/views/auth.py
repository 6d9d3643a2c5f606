"""Signing up, in and out; Django's auth views do the work."""

from __future__ import annotations

from typing import Any

import logging

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from dynassign.web.forms import SignupForm

log = logging.getLogger(__name__)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign it in, then continue to ``next`` (a join link, usually)."""
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        log.info("user signed up id=%s", user.id)
        return redirect(next_url or "home")
    return render(request, "web/signup.html", {"form": form, "next": next_url}, status=422 if form.errors else 200)


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    next_page = "home"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = "login"
