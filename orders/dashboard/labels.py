"""Words the dashboard shows for workflow internals, in the staff member's language.

The workflow engine and the API keep their stable English codes ("waits until", "waiting",
"task"); these are only how a page says them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

DUE_LABELS = {
    "runs at": _("runs at"),
    "retry at": _("retries at"),
    "lease ends": _("lease ends at"),
    "waits until": _("waits until"),
    "approval times out": _("approval times out at"),
    "signal times out": _("signal times out at"),
}

STEP_STATUSES = {
    "scheduled": pgettext_lazy("workflow step", "scheduled"),
    "running": pgettext_lazy("workflow step", "running"),
    "waiting": pgettext_lazy("workflow step", "waiting"),
    "succeeded": pgettext_lazy("workflow step", "succeeded"),
    "failed": pgettext_lazy("workflow step", "failed"),
    "cancelled": pgettext_lazy("workflow step", "cancelled"),
}

STEP_KINDS = {
    "task": pgettext_lazy("workflow step kind", "task"),
    "choice": pgettext_lazy("workflow step kind", "choice"),
    "wait": pgettext_lazy("workflow step kind", "wait"),
    "approval": pgettext_lazy("workflow step kind", "approval"),
    "succeed": pgettext_lazy("workflow step kind", "end"),
    "fail": pgettext_lazy("workflow step kind", "failure"),
}


def due_label(code: str) -> str:
    return str(DUE_LABELS.get(code, code))


def step_status(code: str) -> str:
    return str(STEP_STATUSES.get(code, code))


def step_kind(code: str) -> str:
    return str(STEP_KINDS.get(code, code))
