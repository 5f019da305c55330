from django.db import models


class StaffAccess(models.Model):
    """Holds the three staff permissions; it has no table (``managed = False``).

    The permissions are about operating the shop as a whole rather than about one model, and a
    model of their own keeps them out of the domain apps' migrations. See ``levels.py``.
    """

    class Meta:
        managed = False
        # Without these the admin derives "staff accesss" from the class name.
        verbose_name = "staff access level"
        verbose_name_plural = "staff access levels"
        default_permissions = ()
        permissions = [
            ("view_operations", "View orders, payments, webhooks, outbox, mail and workflows"),
            ("operate_orders", "Operate orders: ship, approve or reject, cancel unpaid, record payments, replay"),
            ("refund_orders", "Refund orders"),
        ]

    def __str__(self) -> str:
        return "staff access levels"
