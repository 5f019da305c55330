from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


class ShopperClient(Client):
    """A browser whose shopper reads ``language`` (as their Accept-Language header says)."""

    def __init__(self, language: str, **kwargs: Any) -> None:
        super().__init__(HTTP_ACCEPT_LANGUAGE=language, **kwargs)


@pytest.fixture
def ja() -> ShopperClient:
    return ShopperClient("ja")


@pytest.fixture
def en() -> ShopperClient:
    return ShopperClient("en")
