from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class WorkflowConfig(AppConfig):
    name = "payops.workflow"
    label = "workflow"
    verbose_name = "Workflows"

    def ready(self) -> None:
        # Each app declares its workflows in a ``workflows`` module (like ``admin``); importing
        # them registers the definitions, so a worker knows every workflow it may be asked to run.
        autodiscover_modules("workflows")

        from payops.workflow import dispatch, tasks

        dispatch.run_step_hook.connect(tasks.run_step)
