from tests.aws_fixtures import aws, moto_server, stack  # noqa: F401
