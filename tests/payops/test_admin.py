import pytest
from django.apps import apps
from django.contrib import admin

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("orders", "webhooks", "simulator", "outbox", "mail", "workflow", "apikeys", "idempotency", "staff")


def test_every_payops_model_is_in_the_admin():
    missing = [
        f"{model._meta.app_label}.{model.__name__}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS and not model._meta.abstract and model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.parametrize("model", [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS])
def test_admin_changelist_renders(admin_client, model):
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert admin_client.get(url).status_code == 200
