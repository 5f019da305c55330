from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "payops.simulator"
    label = "simulator"
    verbose_name = "Payment simulator (test mode)"
