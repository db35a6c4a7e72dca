"""The embedded DynamoDB's transactions (local/moto_server.transactions_without_table_copies) keep
DynamoDB's word: every condition judged against the items as they were, all written or none,
a refused write's reasons per item (with the item as it was when asked), a malformed request
refused whole, and a stream that shows committed writes only. The races and their negative
controls stand on this."""
from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

TABLE = "embedded-transactions"


@pytest.fixture
def dynamodb(aws: None) -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST",
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    client.put_item(TableName=TABLE, Item={"k": {"S": "a"}, "n": {"N": "1"}, "s": {"S": "text"}})
    yield client
    client.delete_table(TableName=TABLE)


def _n(client: Any, key: str) -> str | None:
    item = client.get_item(TableName=TABLE, Key={"k": {"S": key}}, ConsistentRead=True).get("Item")
    return None if item is None else item.get("n", {}).get("N", "-")


def _stream_records(client: Any) -> int:
    from moto.dynamodb.models import dynamodb_backends
    return len(dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE].stream_shard.items)


def _bump(key: str, condition: str = "", **values: str) -> dict[str, Any]:
    """ADD 1 to the item's n, under `condition` (its values named in `values`)."""
    update: dict[str, Any] = {"TableName": TABLE, "Key": {"k": {"S": key}}, "UpdateExpression": "ADD n :by",
                              "ExpressionAttributeValues": {":by": {"N": "1"},
                                                            **{f":{k}": {"N": v} for k, v in values.items()}},
                              "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def test_a_refused_condition_writes_nothing_and_names_each_item_with_it_as_it_was(dynamodb: Any) -> None:
    streamed = _stream_records(dynamodb)
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"k": {"S": "b"}, "n": {"N": "5"}}}}, _bump("a", "n > :two", two="2")])
    reasons = refused.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["n"] == {"N": "1"}
    assert (_n(dynamodb, "a"), _n(dynamodb, "b")) == ("1", None) and _stream_records(dynamodb) == streamed


def test_conditions_are_judged_against_the_items_before_the_transaction(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"k": {"S": "b"}, "n": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists(k)"}},
        {"ConditionCheck": {"TableName": TABLE, "Key": {"k": {"S": "missing"}},
                            "ConditionExpression": "attribute_not_exists(k)"}},
        _bump("a", "n = :one", one="1")])
    assert (_n(dynamodb, "a"), _n(dynamodb, "b"), _n(dynamodb, "missing")) == ("2", "1", None)


def test_two_writes_of_one_item_are_refused_whole(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[_bump("a"), _bump("a")])
    assert refused.value.response["Error"]["Code"] == "ValidationException" and _n(dynamodb, "a") == "1"


def test_a_write_refused_midway_undoes_the_writes_before_it_and_leaves_no_stream_record(dynamodb: Any) -> None:
    streamed = _stream_records(dynamodb)
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"k": {"S": "b"}, "n": {"N": "7"}}}},
            {"Update": {"TableName": TABLE, "Key": {"k": {"S": "a"}}, "UpdateExpression": "SET n = n + :one ADD s :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert (_n(dynamodb, "a"), _n(dynamodb, "b")) == ("1", None) and _stream_records(dynamodb) == streamed


def test_a_key_that_is_not_the_tables_is_a_validation_error_not_a_cancellation(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": {"wrong": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert refused.value.response["Error"]["Code"] == "ValidationException" and _n(dynamodb, "a") == "1"
