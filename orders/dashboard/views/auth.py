"""Signing staff in and out of the dashboard (Django's auth views, our templates)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from payops.ratelimit import allow_connection

# Password guesses per client address and minute; a person mistyping never gets near it.
LOGIN_ATTEMPTS_PER_MINUTE = 10


class DashboardLoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True
    next_page = "dashboard:overview"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = request.META.get("REMOTE_ADDR", "unknown")
        if not allow_connection(key=f"login:{address}", limit=LOGIN_ATTEMPTS_PER_MINUTE):
            return render(request, "dashboard/login.html", {"form": self.get_form(), "throttled": True}, status=429)
        return super().post(request, *args, **kwargs)


class DashboardLogoutView(auth_views.LogoutView):
    next_page = "login"
