"""Mounted by the project at ``simulator/`` (namespace ``simulator``); every view 404s unless
PAYMENT_SIMULATOR is on. ``stripe/`` is the Stripe-compatible API: STRIPE_API_BASE points there."""

from django.urls import path, re_path

from payops.simulator import api_dispatch, api_views, views

app_name = "simulator"

_stripe_api = [
    path("stripe/v1/customers", api_views.customers_view, name="api_customers"),
    path("stripe/v1/customers/<str:customer_id>", api_views.customer_view, name="api_customer"),
    path(
        "stripe/v1/test_helpers/customers/<str:customer_id>/fund_cash_balance",
        api_views.fund_cash_balance_view,
        name="api_fund_cash_balance",
    ),
    path("stripe/v1/payment_intents", api_views.payment_intents_view, name="api_payment_intents"),
    path("stripe/v1/payment_intents/<str:intent_id>", api_views.payment_intent_view, name="api_payment_intent"),
    path(
        "stripe/v1/payment_intents/<str:intent_id>/confirm",
        api_views.payment_intent_confirm_view,
        name="api_payment_intent_confirm",
    ),
    path(
        "stripe/v1/payment_intents/<str:intent_id>/cancel",
        api_views.payment_intent_cancel_view,
        name="api_payment_intent_cancel",
    ),
    path("stripe/v1/refunds", api_views.refunds_view, name="api_refunds"),
    path("stripe/v1/refunds/<str:refund_id>", api_views.refund_view, name="api_refund"),
    path("stripe/v1/events/<str:event_id>", api_views.event_view, name="api_event"),
    path("stripe/v1/webhook_endpoints", api_views.webhook_endpoints_view, name="api_webhook_endpoints"),
    path(
        "stripe/v1/webhook_endpoints/<str:endpoint_id>",
        api_views.webhook_endpoint_view,
        name="api_webhook_endpoint",
    ),
    # Anything else under stripe/ answers like Stripe does for an unknown URL.
    re_path(r"^stripe/(?P<path>.*)$", api_dispatch.unrecognized_url_view, name="api_unrecognized"),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("3ds/<str:intent_id>/", views.three_d_secure, name="three_d_secure"),
    path("vouchers/<str:intent_id>/", views.voucher, name="voucher"),
    path("vouchers/<str:intent_id>/pay/", views.konbini_pay, name="konbini_pay"),
    path("vouchers/<str:intent_id>/expire/", views.konbini_expire, name="konbini_expire"),
    path("transfers/<str:intent_id>/", views.transfer_instructions, name="transfer_instructions"),
    path("transfers/<str:intent_id>/fund/", views.transfer_fund, name="transfer_fund"),
    path("events/<str:event_id>/redeliver/", views.event_redeliver, name="event_redeliver"),
    *_stripe_api,
]
