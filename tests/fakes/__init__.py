"""In-memory fakes of every port of the service layer, honouring the same conditions and tags as
the DynamoDB adapters (proven by tests/port_contract.py, run against both), for use-case tests
that run in milliseconds. Nothing here imports boto3, botocore, PynamoDB or moto."""
from .context import db, fake_context
from .outside import FakeClock
from .unit_of_work import FakeDatabase, FakeUnitOfWork, TransactionInvalid

__all__ = ["FakeClock", "FakeDatabase", "FakeUnitOfWork", "TransactionInvalid", "db", "fake_context"]
