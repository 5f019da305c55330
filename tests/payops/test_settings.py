"""The production profile refuses to start without what it needs, and names what is missing."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

FULL = {
    "PAYOPS_PRODUCTION": "true",
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "PAYOPS_BASE_URL": "https://shop.example.com",
    "DATABASE_URL": "postgres://payops@db.internal/payops",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_WEBHOOK_SECRETS": "whsec_live",
    "PAYOPS_MAIL_FROM": "Shop <orders@shop.example.com>",
}


def start(env: dict[str, str], code: str = "print('started')") -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PAYOPS_", "DJANGO_", "STRIPE_", "DATABASE_", "REDIS_"))
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "payops.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_everything_set():
    result = start(FULL)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "PAYOPS_BASE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRETS",
    ],
)
def test_a_missing_production_setting_stops_start_naming_it(missing):
    result = start({k: v for k, v in FULL.items() if k != missing})
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_stripe_keys_may_come_from_the_secrets_store_instead():
    env = {k: v for k, v in FULL.items() if not k.startswith("STRIPE_")}
    result = start({**env, "PAYOPS_SECRETS_BACKEND": "secretsmanager", "PAYOPS_SECRETS_ID": "payops/prod"})
    assert result.returncode == 0, result.stderr


def test_the_simulator_refuses_a_live_key():
    result = start({"PAYMENT_SIMULATOR": "true", "STRIPE_SECRET_KEY": "sk_live_abc"})
    assert result.returncode != 0
    assert "cannot run with a live Stripe key" in result.stderr


SIMULATOR_PRESENCE = (
    "from django.apps import apps; from django.urls import Resolver404, resolve\n"
    "try:\n    resolve('/simulator/stripe/v1/customers'); mounted = True\n"
    "except Resolver404:\n    mounted = False\n"
    "print(apps.is_installed('payops.simulator'), mounted)"
)


def test_the_simulator_is_neither_installed_nor_mounted_in_production():
    result = start(FULL, SIMULATOR_PRESENCE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_the_simulator_is_installed_and_mounted_when_it_is_the_gateway():
    result = start({"PAYMENT_SIMULATOR": "true"}, SIMULATOR_PRESENCE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


# The packages only the embedded profile installs (requirements-embedded.txt), made absent.
WITHOUT_EMBEDDED_PACKAGES = """
import importlib.util, sys
ABSENT = ("moto", "daphne")
real_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: (
    None if name.split(".")[0] in ABSENT else real_find_spec(name, package)
)
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Absent())
"""


def test_production_runs_on_the_runtime_requirements_alone():
    code = (
        "import payops.asgi, payops.celery; from django.conf import settings; "
        "from django.apps import apps; print('daphne' in settings.INSTALLED_APPS, apps.ready)"
    )
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EMBEDDED_PACKAGES + "import django; django.setup(); " + code],
        cwd=settings.BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("PAYOPS_", "DJANGO_", "STRIPE_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "payops.settings",
            **FULL,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
