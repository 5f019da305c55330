"""Django's own ASGI handler, nothing else: the reference ``bench/http_floor.py`` prints beside
payops's production path (it is what ``payops.asgi`` served Django HTTP through before ADR 0021)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payops.settings")
application = get_asgi_application()
