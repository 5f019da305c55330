from django.conf import settings
from django.http import HttpRequest


def payops(request: HttpRequest) -> dict[str, object]:
    return {"payment_simulator": settings.PAYMENT_SIMULATOR}
