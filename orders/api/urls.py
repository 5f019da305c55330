from django.urls import path

from orders.api.views import CheckoutApi, ProductListApi

urlpatterns = [
    path("products/", ProductListApi.as_view(), name="api-products"),
    path("checkout/", CheckoutApi.as_view(), name="api-checkout"),
]
