"""The status page's payment instructions on a 390 px phone, in a real browser (issue 14.7/14.6):
nothing wider than the screen, the voucher numbers on one line each and at least as large as
their labels."""

from __future__ import annotations

import pytest

from tests.e2e.test_live_order_status import _checkout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("method", ["konbini", "bank_transfer"])
def test_instructions_fit_a_phone_and_numbers_read_at_label_size(page, payops_server, method):
    created = _checkout(payops_server, method=method, sku=f"E2E-PHONE-{method.upper()}", quantity=1)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(created["order"]["status_url"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    selector = "dl.voucher" if method == "konbini" else "dl.bank"
    sizes = page.evaluate(
        """(selector) => {
            const dl = document.querySelector(selector);
            const px = (el) => parseFloat(getComputedStyle(el).fontSize);
            return [...dl.querySelectorAll("dd.figure")].map((dd) => {
                const label = dd.previousElementSibling;
                const box = dd.getBoundingClientRect();
                const line = parseFloat(getComputedStyle(dd).lineHeight) || px(dd) * 1.6;
                const number = px(dd.querySelector("code") || dd);
                return {number: number, label: px(label), lines: Math.round(box.height / line)};
            });
        }""",
        selector,
    )
    assert sizes, "no numbers shown"
    for size in sizes:
        assert size["number"] >= size["label"] and size["lines"] == 1, size


def test_the_dashboard_order_page_fits_a_phone(page, payops_server, django_user_model):
    """Long PaymentIntent and event ids wrap instead of widening the staff page (issue 14.14)."""
    from tests.e2e.conftest import in_thread

    created = _checkout(payops_server, method="konbini", sku="E2E-PHONE-STAFF", quantity=1)
    in_thread(django_user_model.objects.create_superuser, "phone-admin", "admin@example.com", "pw-phone-admin")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{payops_server.url}/login/?next=/dashboard/")
    page.fill("input[name=username]", "phone-admin")
    page.fill("input[name=password]", "pw-phone-admin")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/dashboard/")
    page.goto(f"{payops_server.url}/dashboard/orders/{created['order']['number']}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
