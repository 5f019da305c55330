from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from orders import views as order_views
from orders.dashboard.views.auth import DashboardLoginView, DashboardLogoutView
from payops.api import health, liveness
from payops.media import media

urlpatterns = [
    path("", include("orders.shop.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("media/<path:path>", media, name="media"),
    path("orders/<str:token>/", order_views.order_status, name="order-status"),
    path("orders/<str:token>/pay/", order_views.order_pay_again, name="order-pay-again"),
    path("orders/<str:token>/voucher/", order_views.order_voucher, name="order-voucher"),
    path("orders/<str:token>/language/", order_views.order_language, name="order-language"),
    path("api/v1/", include("orders.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("webhooks/", include("webhooks.urls")),
    path("healthz", health, name="health"),
    path("livez", liveness, name="liveness"),
    path("dashboard/", include("orders.dashboard.urls")),
    path("login/", DashboardLoginView.as_view(), name="login"),
    path("logout/", DashboardLogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]

if settings.PAYMENT_SIMULATOR:
    urlpatterns.append(path("simulator/", include("payops.simulator.urls")))
