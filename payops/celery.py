"""The Celery app. Queues are named for their work so each can get its own workers."""

import os

from celery import Celery
from kombu import Queue

from payops.broker import use_payops_redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payops.settings")

# Redis URLs use a transport that survives Redis going away under unacknowledged messages.
use_payops_redis_transport()
app = Celery("payops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [
    Queue("default"),
    Queue("payments"),  # order expiry, gateway calls
    Queue("webhooks"),  # processing of the webhook inbox
    Queue("outbox"),  # publishing order events to EventBridge
    Queue("mail"),  # SES sends
    Queue("workflow"),  # fulfilment workflow steps
]
app.conf.task_routes = {
    "orders.tasks.*": {"queue": "payments"},
    "webhooks.tasks.*": {"queue": "webhooks"},
    "payops.outbox.tasks.*": {"queue": "outbox"},
    "payops.mail.tasks.*": {"queue": "mail"},
    "payops.workflow.tasks.*": {"queue": "workflow"},
}
app.autodiscover_tasks()
