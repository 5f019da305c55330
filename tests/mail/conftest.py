import pytest

from payops.aws.ses import ensure_identity
from tests.aws_fixtures import Moto, aws, moto_server, stack  # noqa: F401


@pytest.fixture
def mail_ready(aws: Moto) -> Moto:  # noqa: F811 - the fixture above
    """moto with the sender's domain verified in SES, as ``aws_deploy`` leaves it."""
    ensure_identity("payops.example")
    return aws
