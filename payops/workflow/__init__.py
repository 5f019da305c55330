"""The workflow engine: Step Functions semantics (Amazon States Language) on Celery, with every
execution and step stored in the database. See docs/adr/0007-workflow-engine.md."""
