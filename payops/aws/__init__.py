"""payops's AWS integrations: one module per service, one client factory (``client.py``)."""
