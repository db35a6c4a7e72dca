"""The synthesized deployment: its resources and properties, cfn-lint, and no drift between the
PynamoDB models and the deployed tables."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("infra")
    subprocess.run([sys.executable, "-m", "infra.synth", "--stage", "prod", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    return out


@pytest.fixture(scope="module")
def template(synthesized: Path) -> dict[str, Any]:
    return json.loads((synthesized / "template.json").read_text())


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_cfn_lint_finds_no_errors(synthesized: Path) -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(synthesized / "template.json")],
                            capture_output=True, text=True)
    assert result.returncode & 2 == 0, result.stdout       # bit 2: errors (4 warnings, 8 informational)


@pytest.fixture(scope="module")
def prod_models() -> Iterator[dict[str, dict[str, Any]]]:
    """The models as a prod Lambda sees them (table prefix of the stage), described by DynamoDB
    after the models created them: what `make run` and the tests run on."""
    code = r"""
import json, os, sys
os.environ.update(STAGE="prod", TABLE_PREFIX="micromall-prod-", AWS_DEFAULT_REGION="us-east-1",
                  AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
from moto import mock_aws
with mock_aws():
    from chalicelib.adapters.tables import ALL_TABLES, create_tables
    import boto3
    create_tables()
    client = boto3.client("dynamodb", region_name="us-east-1")
    out = {}
    for model in ALL_TABLES:
        table = client.describe_table(TableName=model.Meta.table_name)["Table"]
        ttl = model._ttl_attribute()
        out[model.Meta.table_name] = {"table": table, "ttl": ttl.attr_name if ttl else None}
    print(json.dumps(out, default=str))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    yield json.loads(result.stdout.splitlines()[-1])


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((k["AttributeName"], k["KeyType"]) for k in schema)


def test_tables_match_the_pynamodb_models_exactly(template: dict[str, Any], prod_models: dict[str, Any]) -> None:
    deployed = {t["Properties"]["TableName"]: t["Properties"] for t in of_type(template, "AWS::DynamoDB::Table").values()}
    assert set(deployed) == set(prod_models)
    for name, model in prod_models.items():
        table, properties = model["table"], deployed[name]
        assert _keys(properties["KeySchema"]) == _keys(table["KeySchema"]), name
        assert properties["KeySchema"][0]["KeyType"] == "HASH"
        assert sorted((a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]) == \
            sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]), name
        indexes = {i["IndexName"]: (_keys(i["KeySchema"]), i["Projection"]["ProjectionType"])
                   for i in properties.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i["IndexName"]: (_keys(i["KeySchema"]), i["Projection"]["ProjectionType"])
                           for i in table.get("GlobalSecondaryIndexes", [])}, name
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["SSESpecification"] == {"SSEEnabled": True}
        expected_ttl = {"AttributeName": model["ttl"], "Enabled": True} if model["ttl"] else None
        assert properties.get("TimeToLiveSpecification") == expected_ttl, name


def test_queues_have_dead_letter_queues_and_workers_report_batch_item_failures(template: dict[str, Any]) -> None:
    queues = of_type(template, "AWS::SQS::Queue")
    for name in ("RefundsQueue", "AlertsQueue", "ExpiryQueue", "NotificationsQueue"):
        redrive = queues[name]["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [name.replace("Queue", "DeadLetterQueue"), "Arn"]}
        assert redrive["maxReceiveCount"] == 5
    functions = of_type(template, "AWS::Serverless::Function")
    sqs_events = {name: event for name, f in functions.items() for event in f["Properties"].get("Events", {}).values()
                  if event["Type"] == "SQS"}
    assert set(sqs_events) == {"RefundsWorker", "AlertsWorker", "ExpiryWorker", "NotificationsWorker"}
    expiry = queues["ExpiryQueue"]["Properties"]
    assert expiry["FifoQueue"] and expiry["QueueName"].endswith(".fifo")
    assert queues["ExpiryDeadLetterQueue"]["Properties"]["FifoQueue"]
    for name, event in sqs_events.items():
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert event["Properties"]["Queue"] == {"Fn::GetAtt": [name.replace("Worker", "Queue"), "Arn"]}
    # expiry scales out to a bound the stack's parameter sets (docs/CAPACITY.md)
    assert sqs_events["ExpiryWorker"]["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": {"Ref": "ExpiryWorkerConcurrency"}}
    assert template["Parameters"]["ExpiryWorkerConcurrency"]["Default"] == 100
    # the workers' REFUND_MAX_ATTEMPTS equals the queue's maxReceiveCount
    assert functions["RefundsWorker"]["Properties"]["Environment"]["Variables"]["REFUND_MAX_ATTEMPTS"] == "5"


def test_schedule_topic_and_runtime(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Serverless::Function")
    events = functions["EveryMinute"]["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in events.values()] == ["rate(1 minute)"]
    assert "AlertsTopic" in of_type(template, "AWS::SNS::Topic")
    assert {f["Properties"]["Runtime"] for f in functions.values()} == {"python3.13"}
    assert {f["Properties"]["Tracing"] for f in functions.values()} == {"Active"}


def test_secrets_are_read_at_run_time_and_never_in_the_template(template: dict[str, Any], synthesized: Path) -> None:
    secrets = of_type(template, "AWS::SecretsManager::Secret")
    assert set(secrets) == {"JwtSecret", "DataKeySecret", "QrSigningKeysSecret", "WeChatPaySecret", "WeChatAppSecret"}
    for function in of_type(template, "AWS::Serverless::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["JWT_SECRET_ARN"] == {"Ref": "JwtSecret"}
        assert variables["WECHATPAY_CONFIG_ARN"] == {"Ref": "WeChatPaySecret"}
        assert not {"JWT_SECRET", "DATA_KEY", "QR_SIGNING_KEYS", "WECHATPAY_CONFIG"} & set(variables)
    text = (synthesized / "template.json").read_text()
    assert "PRIVATE KEY" not in text and "SANDBOX" not in text


def test_iam_is_least_privilege(template: dict[str, Any]) -> None:
    roles = of_type(template, "AWS::IAM::Role")
    statements = [s for role in roles.values() for policy in role["Properties"]["Policies"]
                  for s in policy["PolicyDocument"]["Statement"]]
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a.endswith(":*") or a == "*" for a in actions), statement
        if statement["Resource"] == "*":
            assert all(a.startswith("xray:") for a in actions), statement
    tables = next(s for s in statements if s.get("Sid") == "Tables")
    assert {"Fn::GetAtt": ["OrdersTable", "Arn"]} in tables["Resource"]
    assert "dynamodb:Scan" not in tables["Action"]


def test_api_throttling_and_gateway_responses(template: dict[str, Any]) -> None:
    api = template["Resources"]["RestAPI"]["Properties"]
    (settings,) = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"} and settings["ResourcePath"] == "/*"
    responses = api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"]
    assert responses["UNAUTHORIZED"]["statusCode"] == "401"
    assert json.loads(responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"])["code"] == \
        "NOT_FOUND"


def test_alarms_cover_dead_letters_errors_throttles_5xx_refunds_and_scans(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    functions = of_type(template, "AWS::Serverless::Function")
    expected = {"RefundsDeadLetterAlarm", "AlertsDeadLetterAlarm", "ExpiryDeadLetterAlarm", "ExpiryQueueAgeAlarm",
                "NotificationsDeadLetterAlarm",
                "Api5xxRateAlarm", "FailedRefundsAlarm",
                "RejectedRedemptionsSpikeAlarm"} | {f"{f}{m}Alarm" for f in functions for m in ("Errors", "Throttles")}
    assert expected <= set(alarms)
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}] for a in alarms.values())
    dead = alarms["RefundsDeadLetterAlarm"]["Properties"]
    assert (dead["MetricName"], dead["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 1)
    refunds = alarms["FailedRefundsAlarm"]["Properties"]
    assert {d["Name"]: d["Value"] for d in refunds["Dimensions"]} == {"service": "micromall", "result": "failed"}
    body = of_type(template, "AWS::CloudWatch::Dashboard")["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    titles = [w["properties"]["title"] for w in json.loads(body)["widgets"]]
    assert any("Sales" in t for t in titles) and any("gate" in t for t in titles) and any("Refunds" in t for t in titles)


def test_every_table_and_index_alarms_on_throttling_and_the_dashboard_shows_it(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    watched = set()
    for alarm in alarms.values():
        for metric in alarm["Properties"].get("Metrics", []):
            stat = metric.get("MetricStat", {}).get("Metric", {})
            if stat.get("Namespace") == "AWS/DynamoDB":
                dims = {d["Name"]: d["Value"] for d in stat["Dimensions"]}
                watched.add((dims["TableName"], dims.get("GlobalSecondaryIndexName"), stat["MetricName"]))
    for table in of_type(template, "AWS::DynamoDB::Table").values():
        name = table["Properties"]["TableName"]
        for index in [None] + [i["IndexName"] for i in table["Properties"].get("GlobalSecondaryIndexes", [])]:
            assert {(name, index, "ReadThrottleEvents"), (name, index, "WriteThrottleEvents")} <= watched, (name, index)
    body = of_type(template, "AWS::CloudWatch::Dashboard")["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert any("ThrottleEvents" in json.dumps(w) for w in json.loads(body)["widgets"])


def test_the_lambda_package_is_built_for_the_runtime(synthesized: Path) -> None:
    with zipfile.ZipFile(synthesized / "deployment.zip") as package:
        names = set(package.namelist())
    assert {"app.py", "chalice/app.py", "chalicelib/api/access.py"} <= names
    assert not any(n.startswith(("local/", "tests/", "infra/")) for n in names)
    assert not any("cpython-311" in n for n in names)


def test_the_figures_read_each_streamed_tables_real_stream(template: dict[str, Any]) -> None:
    tables = of_type(template, "AWS::DynamoDB::Table")
    streamed = {name for name, t in tables.items() if "StreamSpecification" in t["Properties"]}
    assert streamed == {"OrdersTable", "RefundsTable", "TicketsTable", "SkusTable", "UserCouponsTable",
                        "AfterSalesTable"}
    assert all(tables[t]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
               for t in streamed)
    functions = of_type(template, "AWS::Serverless::Function")
    events = {name: e["Properties"] for name, f in functions.items() for e in f["Properties"].get("Events", {}).values()
              if e["Type"] == "DynamoDB"}
    assert {e["Stream"]["Fn::GetAtt"][0] for e in events.values()} == streamed
    for name, event in events.items():
        assert event["Stream"]["Fn::GetAtt"][1] == "StreamArn"
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and event["StartingPosition"] == "TRIM_HORIZON"
        assert event["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FiguresDeadLetterQueue", "Arn"]}
        assert f"{name}LagAlarm" in template["Resources"]
    assert "FiguresDeadLetterAlarm" in template["Resources"]
    assert tables["AggregatesTable"]["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires",
                                                                                "Enabled": True}


def test_every_stage_serves_the_console_through_its_api(template: dict[str, Any], synthesized: Path) -> None:
    """The console and the scanner page are API routes with no authorizer (they log in with the
    API like any client), and their files travel in the Lambda package."""
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path in ("/console", "/console/scanner", "/console/sw.js", "/console/assets/{name}",
                 "/console/assets/pages/{name}"):
        assert "get" in paths[path], path
        assert not paths[path]["get"].get("security"), path
    with zipfile.ZipFile(synthesized / "deployment.zip") as package:
        names = set(package.namelist())
    assert {"chalicelib/console/index.html", "chalicelib/console/scanner.html", "chalicelib/console/sw.js",
            "chalicelib/console/assets/scanner.js", "chalicelib/console/assets/noble-ed25519-2.3.0.js"} <= names
