"""Secrets from Secrets Manager and SSM (moto over HTTP): TTL, rotation, and never shown."""

import logging
import pickle
import sys

import pytest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from payops.aws import secrets
from payops.aws.client import aws_client
from payops.aws.secretsmanager import SecretFormatError, put_json_secret
from payops.aws.ssm import put_secure_parameter
from payops.stripe.gateway import get_gateway
from tests.fakes.stripe_api import payment_intent_json
from tests.stripe_events import intent_object, post_event, stripe_event

pytestmark = pytest.mark.django_db

KEY_V1 = "sk_test_fromsecretsmanager_v1_4f9a2c"
KEY_V2 = "sk_test_fromsecretsmanager_v2_77d1e0"
WHSEC_V1 = "whsec_rotation_one_9c2b7e11"
WHSEC_V2 = "whsec_rotation_two_3a8d4f55"
BANK_SECRET = "bank-feed-hmac-secret-5e6f"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(secrets, "_clock", clock)
    secrets.forget_cached_secrets()
    yield clock
    secrets.forget_cached_secrets()


@pytest.fixture
def secretsmanager_backend(aws, settings, clock):
    settings.PAYOPS_SECRETS_BACKEND = "secretsmanager"
    settings.PAYOPS_SECRETS_ID = "payops/test"
    settings.PAYOPS_SECRETS_TTL_SECONDS = 300
    settings.PAYOPS_SECRETS_MIN_REFRESH_SECONDS = 30
    put_json_secret(
        "payops/test",
        {
            "stripe_secret_key": KEY_V1,
            "stripe_webhook_secrets": [WHSEC_V1],
            "outside_payment_secrets": {"mybank": BANK_SECRET},
        },
    )
    return aws


def count_calls(aws, operation):
    calls = []
    aws.on("secretsmanager", f"before-call.secretsmanager.{operation}", lambda **kw: calls.append(operation))
    return calls


def test_secrets_manager_json_secret_is_read_and_cached_for_the_ttl(secretsmanager_backend, clock):
    reads = count_calls(secretsmanager_backend, "GetSecretValue")

    assert secrets.stripe_secret_key() == KEY_V1
    assert secrets.stripe_webhook_secrets() == [WHSEC_V1]
    assert secrets.outside_payment_secret("mybank") == BANK_SECRET
    assert secrets.outside_payment_secret("unknown") is None
    assert len(reads) == 1  # one read serves all three

    # rotated in the store: the cache keeps the old value until the TTL runs out
    put_json_secret("payops/test", {"stripe_secret_key": KEY_V2, "stripe_webhook_secrets": [WHSEC_V1]})
    clock.now += 299
    assert secrets.stripe_secret_key() == KEY_V1
    clock.now += 2
    assert secrets.stripe_secret_key() == KEY_V2
    assert len(reads) == 2


def test_ssm_parameters_by_path_are_read(aws, settings, clock):
    settings.PAYOPS_SECRETS_BACKEND = "ssm"
    settings.PAYOPS_SECRETS_SSM_PATH = "/payops/test/"
    put_secure_parameter("/payops/test/stripe_secret_key", KEY_V1)
    put_secure_parameter("/payops/test/stripe_webhook_secrets", f"{WHSEC_V1},{WHSEC_V2}")
    put_secure_parameter("/payops/test/outside_payment/mybank", BANK_SECRET)
    put_secure_parameter("/payops/other/stripe_secret_key", "sk_test_not_ours_at_all")

    assert secrets.stripe_secret_key() == KEY_V1
    assert secrets.stripe_webhook_secrets() == [WHSEC_V1, WHSEC_V2]
    assert secrets.outside_payment_secret("mybank") == BANK_SECRET
    assert secrets.load_secrets().source == "ssm:/payops/test/"


def test_a_refresh_after_a_signature_failure_picks_up_a_rotated_secret_but_is_rate_limited(
    secretsmanager_backend, clock
):
    reads = count_calls(secretsmanager_backend, "GetSecretValue")
    assert secrets.stripe_webhook_secrets() == [WHSEC_V1]
    put_json_secret("payops/test", {"stripe_secret_key": KEY_V1, "stripe_webhook_secrets": [WHSEC_V2, WHSEC_V1]})

    clock.now += 10  # within the refresh rate limit: a flood of forged webhooks costs no AWS calls
    assert secrets.stripe_webhook_secrets(refresh=True) == [WHSEC_V1]
    clock.now += 30
    assert secrets.stripe_webhook_secrets(refresh=True) == [WHSEC_V2, WHSEC_V1]
    assert secrets.stripe_webhook_secrets(refresh=True) == [WHSEC_V2, WHSEC_V1]
    assert len(reads) == 2


def test_the_webhook_endpoint_accepts_a_rotated_secret_after_one_refresh(secretsmanager_backend, client, clock):
    # payops has the old secret cached; Stripe already signs with the new one
    assert secrets.stripe_webhook_secrets() == [WHSEC_V1]
    put_json_secret("payops/test", {"stripe_secret_key": KEY_V1, "stripe_webhook_secrets": [WHSEC_V2]})
    clock.now += 60
    intent = intent_object("pi_unknown_to_payops", status="succeeded", amount=1500)
    event = stripe_event("payment_intent.succeeded", intent)

    response = post_event(client, event, secret=WHSEC_V2)

    assert response.status_code == 200
    assert secrets.stripe_webhook_secrets() == [WHSEC_V2]
    # a signature with a secret the store never had is still refused
    forged = stripe_event("payment_intent.succeeded", intent_object("pi_x", status="succeeded", amount=1500))
    assert post_event(client, forged, secret="whsec_forged_0000000").status_code == 400


def test_the_stripe_gateway_uses_the_key_from_the_store(secretsmanager_backend, fake_stripe):
    fake_stripe.responder = lambda request: (200, payment_intent_json(id="pi_key"))

    get_gateway().retrieve_payment_intent("pi_key")

    (request,) = fake_stripe.requests
    assert request.headers["authorization"] == f"Bearer {KEY_V1}"


def test_an_unreachable_store_keeps_the_last_good_copy_and_is_not_hammered(
    secretsmanager_backend, settings, clock, caplog
):
    assert secrets.stripe_secret_key() == KEY_V1
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    attempts = count_calls(secretsmanager_backend, "GetSecretValue")
    clock.now += 301

    assert secrets.stripe_secret_key() == KEY_V1
    assert "could not refresh secrets from secretsmanager" in caplog.text
    # forged webhooks asking for refreshes while the store is down: no call for each of them
    for _ in range(5):
        assert secrets.stripe_webhook_secrets(refresh=True) == [WHSEC_V1]
    assert len(attempts) == 1
    clock.now += 31
    secrets.stripe_webhook_secrets(refresh=True)
    assert len(attempts) == 2

    # nothing cached at all: an error, and again not one call per caller
    secrets.forget_cached_secrets()
    for _ in range(3):
        with pytest.raises(secrets.SecretsUnavailable, match="EndpointConnectionError"):
            secrets.stripe_secret_key()
    assert len(attempts) == 3


def test_a_malformed_secret_is_reported_without_its_value(aws, settings, clock):
    settings.PAYOPS_SECRETS_BACKEND = "secretsmanager"
    settings.PAYOPS_SECRETS_ID = "payops/broken"
    aws_client("secretsmanager").create_secret(Name="payops/broken", SecretString='{"stripe_secret_key": "sk_live_x')

    with pytest.raises(secrets.SecretsUnavailable) as raised:
        secrets.load_secrets()

    assert isinstance(raised.value.__cause__, SecretFormatError)
    assert "sk_live_x" not in str(raised.value) and "sk_live_x" not in str(raised.value.__cause__)
    assert raised.value.__cause__.__cause__ is None and raised.value.__cause__.__context__ is None


def test_secret_values_never_reach_the_logs_even_at_debug(secretsmanager_backend, settings, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    try:
        secrets.load_secrets()
        put_json_secret("payops/test", {"stripe_secret_key": KEY_V2, "stripe_webhook_secrets": [WHSEC_V2]})
        secrets.load_secrets(refresh=True)
        settings.PAYOPS_SECRETS_BACKEND = "ssm"
        put_secure_parameter("/payops/stripe_secret_key", KEY_V1)
        secrets.load_secrets()
    finally:
        logging.getLogger("botocore").setLevel(logging.NOTSET)

    # botocore did log at DEBUG (so this test would see a body) -- just not these calls' bodies
    assert any(r.name.startswith("botocore") for r in caplog.records)
    assert "secrets loaded from PayopsSecrets(source='secretsmanager:payops/test'" in caplog.text
    for value in (KEY_V1, KEY_V2, WHSEC_V1, WHSEC_V2, BANK_SECRET):
        assert value not in caplog.text


def test_a_secret_does_not_show_itself():
    loaded = secrets.PayopsSecrets(
        source="test", stripe_secret_key=secrets.Secret(KEY_V1), stripe_webhook_secrets=(secrets.Secret(WHSEC_V1),)
    )
    for text in (repr(loaded), str(loaded), f"{loaded.stripe_secret_key}", repr(loaded.stripe_webhook_secrets)):
        assert KEY_V1 not in text and WHSEC_V1 not in text
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(loaded.stripe_secret_key)


def test_log_lines_that_carry_a_loaded_secret_are_redacted(secretsmanager_backend):
    secrets.load_secrets()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "stripe said no to %s", (KEY_V1,), None)

    assert secrets.RedactSecretsFilter().filter(record)
    assert record.getMessage() == "stripe said no to **********"


def _fail_holding_the_key() -> None:
    api_key = secrets.stripe_secret_key()  # a plain local in a frame of the traceback
    raise RuntimeError(f"something went wrong after reading a key of {len(api_key)} characters")


def test_error_pages_do_not_show_secrets_even_with_debug_on(secretsmanager_backend, settings, rf):
    settings.DEBUG = True
    try:
        _fail_holding_the_key()
    except RuntimeError:
        exc_info = sys.exc_info()
    reporter = ExceptionReporter(rf.get("/"), *exc_info)

    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()

    assert "_fail_holding_the_key" in html  # the frame is there...
    for page in (html, text):
        assert KEY_V1 not in page  # ...its secret is not
    # control: Django's own filter, which stands down under DEBUG, would have shown it
    reporter.filter = SafeExceptionReporterFilter()
    assert KEY_V1 in reporter.get_traceback_html()
