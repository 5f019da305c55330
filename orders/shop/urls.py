"""The storefront's pages (mounted at the site root)."""

from django.urls import path

from orders.shop import views

urlpatterns = [
    path("", views.shop, name="shop"),
    path("products/<str:sku>/", views.product_page, name="shop-product"),
    path("cart/", views.cart, name="shop-cart"),
    path("cart/add/", views.cart_add, name="shop-cart-add"),
    path("checkout/", views.checkout_details, name="shop-checkout"),
    path("checkout/review/", views.review, name="shop-review"),
]
