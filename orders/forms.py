from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from orders.models import Product
from orders.models.payments import PaymentMethod
from orders.services.checkout import CartItem, shopper_payment_methods

# Stripe's test cards, offered only while the payment simulator is the gateway.
TEST_CARDS = [
    ("4242424242424242", "4242 4242 4242 4242 — succeeds"),
    ("4000000000000002", "4000 0000 0000 0002 — declined"),
    ("4000002500003155", "4000 0025 0000 3155 — asks for 3-D Secure"),
]


class ShopCheckoutForm(forms.Form):
    email = forms.EmailField(max_length=254)
    payment_method = forms.ChoiceField(
        choices=lambda: [(method.value, method.label) for method in shopper_payment_methods()],
        initial=PaymentMethod.KONBINI,
    )
    locale = forms.ChoiceField(choices=[("ja", "日本語"), ("en", "English")], initial="ja")
    test_card = forms.ChoiceField(choices=TEST_CARDS, required=False)

    def __init__(self, *args: Any, products: list[Product], simulator: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = products
        self.simulator = simulator
        for product in products:
            self.fields[f"qty_{product.sku}"] = forms.IntegerField(
                min_value=0, max_value=settings.PAYOPS_MAX_LINE_QUANTITY, initial=0, required=False
            )
        if not simulator:
            del self.fields["test_card"]

    def quantity_fields(self) -> list[tuple[Product, forms.BoundField]]:
        return [(product, self[f"qty_{product.sku}"]) for product in self.products]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.cart_items():
            raise forms.ValidationError("Choose at least one product.")
        return cleaned

    def cart_items(self) -> list[CartItem]:
        return [
            CartItem(sku=product.sku, quantity=self.cleaned_data.get(f"qty_{product.sku}") or 0)
            for product in self.products
            if self.cleaned_data.get(f"qty_{product.sku}")
        ]

    def add_checkout_error(self, message: str, *, field: str) -> None:
        """A refusal from checkout, on the field it names when this form has that field."""
        self.add_error(field if field in self.fields else None, message)

    def payment_method_id(self) -> str:
        if not self.simulator or self.cleaned_data.get("payment_method") != PaymentMethod.CARD:
            return ""
        from payops.simulator.test_cards import payment_method_for_card

        return payment_method_for_card(self.cleaned_data.get("test_card") or TEST_CARDS[0][0])
