"""Version 1 of the REST API, mounted at /api/v1/ (see docs/adr/0008-api-conventions.md)."""

from django.urls import path

from orders.api.views import (
    catalogue,
    checkout,
    operations,
    shopper,
    staff_actions,
    staff_orders,
    tokens,
    workflows,
)

urlpatterns = [
    # Shoppers and frontends (anonymous, throttled per address)
    path("products/", catalogue.ProductListApi.as_view(), name="api-products"),
    path("products/<str:sku>/", catalogue.ProductDetailApi.as_view(), name="api-product"),
    path("checkout/", checkout.CheckoutApi.as_view(), name="api-checkout"),
    path("orders/<str:token>/", shopper.ShopperOrderApi.as_view(), name="api-shopper-order"),
    path("orders/<str:token>/payments/", shopper.ShopperPaymentRetryApi.as_view(), name="api-shopper-order-payment"),
    # Staff (session or token, by level)
    path("staff/orders/", staff_orders.StaffOrderListApi.as_view(), name="api-staff-orders"),
    path("staff/orders/<str:number>/", staff_orders.StaffOrderDetailApi.as_view(), name="api-staff-order"),
    path("staff/orders/<str:number>/refunds/", staff_actions.StaffRefundApi.as_view(), name="api-staff-order-refund"),
    path("staff/orders/<str:number>/cancel/", staff_actions.StaffCancelApi.as_view(), name="api-staff-order-cancel"),
    path("staff/orders/<str:number>/shipments/", staff_actions.StaffShipmentApi.as_view(), name="api-staff-order-ship"),
    path(
        "staff/orders/<str:number>/delivery/", staff_actions.StaffDeliveryApi.as_view(), name="api-staff-order-deliver"
    ),
    path(
        "staff/orders/<str:number>/outside-payments/",
        staff_actions.StaffOutsidePaymentApi.as_view(),
        name="api-staff-order-outside-payment",
    ),
    path("staff/orders/<str:number>/notes/", staff_actions.StaffNoteApi.as_view(), name="api-staff-order-note"),
    path("staff/orders/<str:number>/approve/", staff_actions.StaffApproveApi.as_view(), name="api-staff-order-approve"),
    path("staff/orders/<str:number>/reject/", staff_actions.StaffRejectApi.as_view(), name="api-staff-order-reject"),
    path("staff/webhook-events/", operations.InboxEventListApi.as_view(), name="api-staff-inbox"),
    path("staff/webhook-events/replay/", operations.InboxEventBulkReplayApi.as_view(), name="api-staff-inbox-replay"),
    path("staff/webhook-events/<int:pk>/", operations.InboxEventDetailApi.as_view(), name="api-staff-inbox-event"),
    path(
        "staff/webhook-events/<int:pk>/replay/",
        operations.InboxEventReplayApi.as_view(),
        name="api-staff-inbox-event-replay",
    ),
    path("staff/outbox-events/", operations.OutboxEventListApi.as_view(), name="api-staff-outbox"),
    path("staff/outbox-events/retry/", operations.OutboxEventBulkRetryApi.as_view(), name="api-staff-outbox-retry"),
    path("staff/outbox-events/<int:pk>/", operations.OutboxEventDetailApi.as_view(), name="api-staff-outbox-event"),
    path(
        "staff/outbox-events/<int:pk>/retry/",
        operations.OutboxEventRetryApi.as_view(),
        name="api-staff-outbox-event-retry",
    ),
    path("staff/mails/", operations.MailListApi.as_view(), name="api-staff-mails"),
    path("staff/mails/<int:pk>/", operations.MailDetailApi.as_view(), name="api-staff-mail"),
    path("staff/mails/<int:pk>/resend/", operations.MailResendApi.as_view(), name="api-staff-mail-resend"),
    path("staff/workflow-executions/", workflows.WorkflowExecutionListApi.as_view(), name="api-staff-workflows"),
    path(
        "staff/workflow-executions/<int:pk>/",
        workflows.WorkflowExecutionDetailApi.as_view(),
        name="api-staff-workflow",
    ),
    path(
        "staff/workflow-executions/<int:pk>/decision/",
        workflows.WorkflowApprovalDecisionApi.as_view(),
        name="api-staff-workflow-decision",
    ),
    path("staff/workflow-approvals/", workflows.PendingApprovalListApi.as_view(), name="api-staff-workflow-approvals"),
    # API tokens
    path("tokens/", tokens.ApiTokenListApi.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", tokens.ApiTokenDetailApi.as_view(), name="api-token"),
]
