from django.urls import path
from django.views.i18n import set_language

from orders.dashboard.views import actions, operations, orders, overview

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview_page, name="overview"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/counts/", orders.order_counts, name="order-counts"),
    path("orders/export.csv", orders.order_export, name="order-export"),
    path("orders/<str:number>/", orders.order_page, name="order"),
    path("orders/<str:number>/live/", orders.order_live, name="order-live"),
    path("orders/<str:number>/actions/<slug:action>/", actions.order_action, name="order-action"),
    path("operations/webhooks/", operations.inbox, name="inbox"),
    path("operations/webhooks/<int:pk>/", operations.inbox_row, name="inbox-row"),
    path("operations/outbox/", operations.outbox, name="outbox"),
    path("operations/mail/", operations.mail_log, name="mail"),
    path("operations/approvals/", operations.approvals, name="approvals"),
    path("operations/<slug:action>/", actions.rows_action, name="rows-action"),
    path("catalogue/", overview.catalogue_page, name="catalogue"),
    path("catalogue/<int:product_id>/stock/", actions.stock_adjust, name="stock-adjust"),
    path("language/", set_language, name="language"),
]
