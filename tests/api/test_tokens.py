"""Per-user API tokens: created from a session, shown once, stored hashed, revoked at once."""

import datetime as dt
import hashlib
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from payops.apikeys.models import ApiToken
from tests.api.fixtures import JsonClient, as_token, assert_problem, make_staff

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


@pytest.fixture
def session(client, operator):
    client.force_login(operator)
    return JsonClient(client)


def test_create_from_a_session_shows_the_token_once_and_stores_its_hash(session, operator):
    response = session.post(TOKENS, {"name": "shop frontend", "level": "view", "expires_in_days": 30})

    assert response.status_code == 201, response.content
    data = response.json()
    plaintext = data["token"]
    assert plaintext.startswith("pyo_") and len(plaintext) >= 40
    stored = ApiToken.objects.get()
    assert stored.digest == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in {getattr(stored, f.attname) for f in ApiToken._meta.fields}
    assert stored.prefix == plaintext[:12] == data["prefix"]
    assert (stored.user, stored.created_by, stored.level) == (operator, operator, "view")
    assert stored.expires_at > timezone.now() + dt.timedelta(days=29)
    # Listed, but never shown again.
    listed = session.get(TOKENS).json()["results"]
    assert [t["id"] for t in listed] == [stored.pk]
    assert "token" not in listed[0] and plaintext not in str(listed)


def test_the_token_authenticates_as_its_user(client, session):
    plaintext = session.post(TOKENS, {"name": "ci", "level": "operate"}).json()["token"]
    client.logout()
    response = client.get(TOKENS, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 200
    assert response.json()["results"][0]["user"] == "operator"
    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_cannot_create_tokens(client, operator):
    response = as_token(client, operator).post(TOKENS, {"name": "x", "level": "view"})
    assert "session" in assert_problem(response, 403, "permission-denied")["detail"]


def test_nobody_mints_a_level_they_do_not_have(session):
    problem = assert_problem(session.post(TOKENS, {"name": "x", "level": "refund"}), 400, "validation-error")
    assert "refund" in problem["errors"]["level"][0]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"level": "view"}, "name"),
        ({"name": "x", "level": "admin"}, "level"),
        ({"name": "x", "level": "view", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x" * 101, "level": "view"}, "name"),
        ({"name": "x", "level": "view", "user": "root"}, "user"),
    ],
)
def test_create_validation(session, body, field):
    assert field in assert_problem(session.post(TOKENS, body), 400, "validation-error")["errors"]


def test_people_without_a_staff_level_get_no_tokens(client, outsider):
    client.force_login(outsider)
    assert_problem(JsonClient(client).post(TOKENS, {"name": "x", "level": "view"}), 403)
    assert_problem(JsonClient(client).get(TOKENS), 403)
    client.logout()
    assert_problem(client.get(TOKENS), 401)


def test_revoke_works_at_once(client, session):
    plaintext = session.post(TOKENS, {"name": "ci", "level": "view"}).json()["token"]
    token = ApiToken.objects.get()
    assert session.delete(f"{TOKENS}{token.pk}/").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by.username == "operator"
    client.logout()
    response = client.get(TOKENS, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert_problem(response, 401, "authentication-failed")
    # Revoking again is a no-op.
    client.force_login(User.objects.get(username="operator"))
    assert JsonClient(client).delete(f"{TOKENS}{token.pk}/").status_code == 204


def test_a_token_may_revoke_itself(client, viewer):
    api = as_token(client, viewer)
    token = ApiToken.objects.get()
    assert api.delete(f"{TOKENS}{token.pk}/").status_code == 204
    assert_problem(api.get(TOKENS), 401)


def test_others_tokens_are_invisible_except_to_superusers(client, viewer, operator):
    as_token(client, viewer)
    theirs = ApiToken.objects.get()
    mine = as_token(client, operator)
    assert mine.get(TOKENS).json()["results"][0]["user"] == "operator"
    assert_problem(mine.delete(f"{TOKENS}{theirs.pk}/"), 404)
    admin = User.objects.create_superuser("root", password=None)
    client.force_login(admin)
    assert len(JsonClient(client).get(TOKENS).json()["results"]) == 2
    assert JsonClient(client).delete(f"{TOKENS}{theirs.pk}/").status_code == 204


def test_expired_tokens_and_inactive_users_are_refused(client, viewer):
    api = as_token(client, viewer)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_problem(api.get(TOKENS), 401, "authentication-failed")
    ApiToken.objects.update(expires_at=None)
    assert api.get(TOKENS).status_code == 200
    User.objects.filter(pk=viewer.pk).update(is_active=False)
    assert_problem(api.get(TOKENS), 401, "authentication-failed")


def test_a_user_who_lost_the_level_loses_it_on_their_tokens_too(client, operator):
    api = as_token(client, operator, "operate")
    operator.groups.clear()
    assert_problem(api.get("/api/v1/staff/orders/"), 403)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer pyo_\u00e9", "Bearer " + "pyo_" + "x" * 200])
def test_malformed_authorization_headers_are_401(client, header):
    assert_problem(client.get("/api/v1/staff/orders/", HTTP_AUTHORIZATION=header.encode().decode("latin-1")), 401)


def test_the_management_command_prints_a_token_for_integrations():
    user = make_staff("integration", "refund")
    out = io.StringIO()
    call_command("api_token_create", "--user", "integration", "--name", "erp", "--level", "operate", stdout=out)
    plaintext = out.getvalue().strip()
    token = ApiToken.objects.get(digest=hashlib.sha256(plaintext.encode()).hexdigest())
    assert (token.user, token.level) == (user, "operate")
    make_staff("reader", "view")
    with pytest.raises(CommandError, match="does not have"):
        call_command("api_token_create", "--user", "reader", "--name", "x", "--level", "refund")


def test_admin_lists_and_revokes_but_never_creates(client, viewer):
    as_token(client, viewer)
    admin = User.objects.create_superuser("root", password=None)
    client.force_login(admin)
    assert client.get("/admin/apikeys/apitoken/").status_code == 200
    assert client.get("/admin/apikeys/apitoken/add/").status_code == 403
    token = ApiToken.objects.get()
    client.post("/admin/apikeys/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_by == admin
