"""What every dashboard view shares: who may see it, and htmx-aware rendering."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from payops.staff.levels import StaffLevel, user_has_level

View = Callable[..., HttpResponseBase]


def is_htmx(request: HttpRequest) -> bool:
    # htmx marks its requests; a boosted link or a history restore wants the whole page.
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def forbidden(request: HttpRequest, level: StaffLevel) -> HttpResponse:
    return render(request, "dashboard/forbidden.html", {"level": level}, status=403)


def staff_required(level: StaffLevel = StaffLevel.VIEW) -> Callable[[View], View]:
    """Anonymous: to the login page. Signed in without the level: 403 with what is missing."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("login"))
            if not user_has_level(request.user, level):
                return forbidden(request, level)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default
