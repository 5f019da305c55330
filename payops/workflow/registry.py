"""Workflows by name. Apps register theirs in a ``workflows`` module, imported at start-up."""

from __future__ import annotations

from payops.workflow.definition import DefinitionError, Workflow

_workflows: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    known = _workflows.get(workflow.name)
    if known is not None and known.version != workflow.version:
        raise DefinitionError(f"another workflow is already registered as {workflow.name!r}")
    _workflows[workflow.name] = workflow
    return workflow


def unregister(name: str) -> None:
    _workflows.pop(name, None)


def get_workflow(name: str) -> Workflow:
    try:
        return _workflows[name]
    except KeyError:
        raise DefinitionError(f"no workflow is registered as {name!r}") from None


def registered() -> dict[str, Workflow]:
    return dict(_workflows)
