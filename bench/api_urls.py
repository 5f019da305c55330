"""payops's URLs plus the baselines of bench/api.py: DRF views that return a constant.

* ``/bench/drf-constant/``: a bare DRF APIView (no authentication, no throttle): what DRF itself
  costs on this machine.
* ``/bench/api-constant/``: the same constant through payops's public API base class, so with
  the token authentication, the per-address throttle (a cache round trip) and the problem
  handling every public endpoint has: what payops's API plumbing adds.
"""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.base import PublicApiView

CONSTANT = {"status": "ok", "results": []}


class DrfConstant(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    def get(self, request: Request) -> Response:
        return Response(CONSTANT)


class ApiConstant(PublicApiView):
    throttle_scope = "catalogue"

    def get(self, request: Request) -> Response:
        return Response(CONSTANT)


urlpatterns = [
    path("bench/drf-constant/", DrfConstant.as_view()),
    path("bench/api-constant/", ApiConstant.as_view()),
    path("", include("payops.urls")),
]
