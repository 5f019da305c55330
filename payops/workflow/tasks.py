"""Celery entry points of the workflow engine (queue "workflow"); the logic is in ``runner.py``."""

from celery import shared_task

from payops.workflow.runner import step_run, workflow_recover


@shared_task(name="payops.workflow.tasks.run_step", ignore_result=True)
def run_step(step_id: int, execution_id: int | None = None) -> str:
    """Run one due step. Delivered twice, or late, it finds the step done or not due and stops."""
    return step_run(step_id=step_id, execution_id=execution_id)


@shared_task(name="payops.workflow.tasks.sweep", ignore_result=True)
def sweep_workflows() -> dict[str, int]:
    """Periodic: steps whose worker died, and due steps whose message was lost or never sent."""
    return workflow_recover()
