"""Signing staff in and out of the dashboard (Django's auth views, our templates)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy


class DashboardLoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("dashboard:overview")


class DashboardLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("login")
