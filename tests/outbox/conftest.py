from tests.aws_fixtures import aws, moto_server, stack  # noqa: F401
from tests.outbox.helpers import failing_entries  # noqa: F401
