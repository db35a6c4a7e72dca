"""`make synth`: writes the deployable template of a stage into build/infra/.

`chalice package` gives the functions, the API, the SQS event sources and the schedule; this
script adds what the app runs on (tables from the PynamoDB models, queues with dead-letter
queues, the alerts topic, secrets, alarms, a dashboard) and tightens what chalice leaves open
(least-privilege IAM, ReportBatchItemFailures, API throttling, gateway responses, tracing)."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = "micromall"
RUNTIME, PYTHON_VERSION = "python3.13", "3.13"   # 3.11, the local interpreter, is a deprecated Lambda runtime
MAX_RECEIVE_COUNT = 5
WORKER_TIMEOUT = 60


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def arn(resource: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, "Arn"]}


def logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def table_logical(table_name: str) -> str:
    """The logical id of a table, from its stage-prefixed name (micromall-prod-orders -> OrdersTable)."""
    return logical(table_name.split("-", 2)[-1]) + "Table"


# ------------------------------------------------------------------ tables from the models

def table_resources(models: tuple[Any, ...]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for model in models:
        schema = model._get_schema()
        properties: dict[str, Any] = {
            "TableName": model.Meta.table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": sorted(schema["attribute_definitions"], key=lambda a: a["AttributeName"]),
            "KeySchema": _keys(schema["key_schema"]),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        }
        if schema.get("global_secondary_indexes"):
            properties["GlobalSecondaryIndexes"] = [
                {"IndexName": index["index_name"], "KeySchema": _keys(index["key_schema"]),
                 "Projection": index["projection"]}
                for index in sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"])]
        ttl = model._ttl_attribute()
        if ttl is not None:
            properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
        if getattr(model.Meta, "stream_view_type", None):
            properties["StreamSpecification"] = {"StreamViewType": model.Meta.stream_view_type}
        resources[table_logical(model.Meta.table_name)] = {
            "Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": properties}
    return resources


def _keys(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """HASH first, as DynamoDB wants it."""
    return sorted(({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in key_schema),
                  key=lambda k: k["KeyType"] != "HASH")


# ------------------------------------------------------------------ queues, topic, secrets

def messaging_resources(env: dict[str, str]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "AlertsTopic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": sub(f"{APP}-{env['STAGE']}-alerts"), "KmsMasterKeyId": "alias/aws/sns"}},
        "AlertEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlertEmail", "Properties": {
            "TopicArn": {"Ref": "AlertsTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlertEmail"}}},
    }
    # Stream batches the figures could not count after every retry (Lambda's on-failure destination).
    resources["FiguresDeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": f"{APP}-{env['STAGE']}-figures-dlq", "MessageRetentionPeriod": 1209600,
        "SqsManagedSseEnabled": True}}
    for queue, name in (("Refunds", env["REFUNDS_QUEUE_NAME"]), ("Alerts", env["ALERTS_QUEUE_NAME"]),
                        ("Notifications", env["NOTIFICATIONS_QUEUE_NAME"])):
        resources[f"{queue}DeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{name}-dlq", "MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}}
        resources[f"{queue}Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name, "SqsManagedSseEnabled": True,
            # Six times the worker's timeout, as AWS advises for Lambda event sources.
            "VisibilityTimeout": 6 * WORKER_TIMEOUT,
            "RedrivePolicy": {"deadLetterTargetArn": arn(f"{queue}DeadLetterQueue"),
                              "maxReceiveCount": MAX_RECEIVE_COUNT}}}
    # Unpaid orders past their expiry, for the expiry workers: FIFO, deduplicated by order id (the
    # schedule hands out everything due every minute), one group per order (high throughput).
    expiry = env["EXPIRY_QUEUE_NAME"]
    resources["ExpiryDeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": expiry.replace(".fifo", "-dlq.fifo"), "FifoQueue": True, "MessageRetentionPeriod": 1209600,
        "SqsManagedSseEnabled": True}}
    resources["ExpiryQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": expiry, "FifoQueue": True, "DeduplicationScope": "messageGroup",
        "FifoThroughputLimit": "perMessageGroupId", "SqsManagedSseEnabled": True,
        "VisibilityTimeout": 6 * WORKER_TIMEOUT,
        "RedrivePolicy": {"deadLetterTargetArn": arn("ExpiryDeadLetterQueue"), "maxReceiveCount": MAX_RECEIVE_COUNT}}}
    return resources


SECRETS = {
    # logical id: (environment variable, generated?, description)
    "JwtSecret": ("JWT_SECRET_ARN", True, "token signing key (64 random characters)"),
    "DataKeySecret": ("DATA_KEY_ARN", True, "key for phone and ID numbers at rest (64 random characters)"),
    "QrSigningKeysSecret": ("QR_SIGNING_KEYS_ARN", False,
                            'JSON [{"kid","key"}]: Ed25519 keys, base64; the first signs. `python -m infra.keys qr`'),
    "WeChatPaySecret": ("WECHATPAY_CONFIG_ARN", False,
                        "JSON: mchid, appid, cert_serial_no, merchant_private_key, apiv3_key, platform_public_key, "
                        "platform_public_key_id, notify_url"),
    "WeChatAppSecret": ("WECHAT_APP_SECRET_ARN", False, "the mini-program's AppSecret, for code2session and the "
                         "access token of subscribe messages (stable_token)"),
}


def secret_resources(stage: str) -> dict[str, Any]:
    resources = {}
    for name, (_, generated, description) in SECRETS.items():
        properties: dict[str, Any] = {"Name": sub(f"{APP}/{stage}/{name}"), "Description": description}
        if generated:
            properties["GenerateSecretString"] = {"PasswordLength": 64, "ExcludePunctuation": True}
        resources[name] = {"Type": "AWS::SecretsManager::Secret", "DeletionPolicy": "Retain",
                           "UpdateReplacePolicy": "Retain", "Properties": properties}
    return resources


# ------------------------------------------------------------------ streams into the figures

def stream_events(properties: dict[str, Any]) -> None:
    """The table's real stream (the app names it by its table), read from the oldest record kept;
    a failed batch reports the first record not counted and is retried from there, a batch that
    still fails after a day of retries goes to the figures' dead-letter queue."""
    placeholder = properties["Stream"]
    table = placeholder.split(":table/", 1)[1].split("/stream/", 1)[0]
    properties.update({
        "Stream": {"Fn::GetAtt": [table_logical(table), "StreamArn"]}, "StartingPosition": "TRIM_HORIZON",
        "FunctionResponseTypes": ["ReportBatchItemFailures"], "MaximumRetryAttempts": 1000,
        "MaximumRecordAgeInSeconds": 86400, "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": arn("FiguresDeadLetterQueue")}}})


# ------------------------------------------------------------------ IAM

def least_privilege_policy(tables: list[str], streamed: list[str]) -> dict[str, Any]:
    table_arns = [arn(t) for t in tables]
    index_arns = [{"Fn::Sub": ["${Table}/index/*", {"Table": arn(t)}]} for t in tables]
    return {"PolicyName": "MicromallLeastPrivilege", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Sid": "Logs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
                         "${AWS::StackName}-*")},
        {"Sid": "Tables", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                    "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem",
                    "dynamodb:DescribeTable"],
         "Resource": table_arns + index_arns},
        {"Sid": "Streams", "Effect": "Allow",
         "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams"],
         "Resource": [{"Fn::GetAtt": [t, "StreamArn"]} for t in streamed]},
        {"Sid": "FiguresDeadLetters", "Effect": "Allow", "Action": ["sqs:SendMessage"],
         "Resource": [arn("FiguresDeadLetterQueue")]},
        {"Sid": "Queues", "Effect": "Allow",
         "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
         "Resource": [arn("RefundsQueue"), arn("AlertsQueue"), arn("ExpiryQueue"), arn("NotificationsQueue")]},
        {"Sid": "AlertsTopic", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": {"Ref": "AlertsTopic"}},
        {"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": [{"Ref": name} for name in SECRETS]},
        # X-Ray accepts no narrower resource.
        {"Sid": "Traces", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
         "Resource": "*"},
    ]}}


# ------------------------------------------------------------------ alarms and dashboard

def alarm(description: str, metric: dict[str, Any], threshold: float, comparison: str = "GreaterThanOrEqualToThreshold",
          period: int = 300) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "ComparisonOperator": comparison, "Threshold": threshold,
        "EvaluationPeriods": 1, "TreatMissingData": "notBreaching", "AlarmActions": [{"Ref": "AlertsTopic"}],
        **({"Period": period, "Statistic": "Sum"} if "Metrics" not in metric else {}), **metric}}


def alarm_resources(functions: list[str], api_name: str, stream_readers: list[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for function in stream_readers:
        # The figures lag behind the orders: a batch keeps failing, or the readers are too slow.
        lag = alarm(f"{function}: the back office's figures are more than 5 minutes behind", {
            "Namespace": "AWS/Lambda", "MetricName": "IteratorAge",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}]}, 300000, period=60)
        lag["Properties"]["Statistic"] = "Maximum"
        resources[f"{function}LagAlarm"] = lag
    for queue in ("Refunds", "Alerts", "Figures", "Expiry", "Notifications"):
        resources[f"{queue}DeadLetterAlarm"] = alarm(
            f"A message is in the {queue.lower()} dead-letter queue",
            {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
             "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [f"{queue}DeadLetterQueue", "QueueName"]}}],
             "Statistic": "Maximum", "Period": 60}, 1)
        resources[f"{queue}DeadLetterAlarm"]["Properties"].pop("Statistic", None)
        resources[f"{queue}DeadLetterAlarm"]["Properties"]["Statistic"] = "Maximum"
    for function in functions:
        for metric in ("Errors", "Throttles"):
            resources[f"{function}{metric}Alarm"] = alarm(
                f"{function}: Lambda {metric.lower()}",
                {"Namespace": "AWS/Lambda", "MetricName": metric,
                 "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}]}, 1)
    # Abandoned stock comes back within about a minute: an expiry message older than five means the
    # workers fall behind (or WeChat cannot be asked) and a session shows sold out meanwhile.
    age = alarm("Unpaid orders wait more than 5 minutes to be expired", {
        "Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ExpiryQueue", "QueueName"]}}]}, 300, period=60)
    age["Properties"]["Statistic"] = "Maximum"
    resources["ExpiryQueueAgeAlarm"] = age
    resources["Api5xxRateAlarm"] = alarm("More than 1% of API requests answered 5xx", {"Metrics": [
        {"Id": "errors", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 300, "Metric": {
            "Namespace": "AWS/ApiGateway", "MetricName": "5XXError",
            "Dimensions": [{"Name": "ApiName", "Value": api_name}]}}},
        {"Id": "requests", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 300, "Metric": {
            "Namespace": "AWS/ApiGateway", "MetricName": "Count",
            "Dimensions": [{"Name": "ApiName", "Value": api_name}]}}},
        {"Id": "rate", "Expression": "IF(requests > 0, 100 * errors / requests, 0)", "Label": "5xx %",
         "ReturnData": True}]}, 1, "GreaterThanThreshold")
    resources["FailedRefundsAlarm"] = alarm("A refund failed at the payment gateway", {
        "Namespace": APP, "MetricName": "Refunds",
        "Dimensions": [{"Name": "service", "Value": APP}, {"Name": "result", "Value": "failed"}]}, 1)
    resources["RejectedRedemptionsSpikeAlarm"] = alarm(
        "A spike of rejected scans at the gates (forgeries, reused tickets)", {
            "Namespace": APP, "MetricName": "RedemptionsRejected",
            "Dimensions": [{"Name": "service", "Value": APP}]}, {"Ref": "RejectedScansPerFiveMinutes"})  # type: ignore[arg-type]
    return resources


def throttle_alarms(tables: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB throttling (read or write, any request) on every table and every one of its
    indexes: on-demand tables throttle too when one partition is hot (a release's session, a
    shared index key), and a throttled sale is a customer told to try again."""
    resources: dict[str, Any] = {}
    for logical, table in sorted(tables.items()):
        name = table["Properties"]["TableName"]
        targets = [(f"{logical}ThrottleAlarm", name, [{"Name": "TableName", "Value": name}])] + [
            (f"{logical}{_index_logical(index['IndexName'])}ThrottleAlarm", f"{name} index {index['IndexName']}",
             [{"Name": "TableName", "Value": name}, {"Name": "GlobalSecondaryIndexName", "Value": index["IndexName"]}])
            for index in table["Properties"].get("GlobalSecondaryIndexes", [])]
        for key, what, dimensions in targets:
            resources[key] = alarm(f"DynamoDB throttled requests on {what}", {"Metrics": [
                {"Id": kind.lower(), "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 60, "Metric": {
                    "Namespace": "AWS/DynamoDB", "MetricName": f"{kind}ThrottleEvents", "Dimensions": dimensions}}}
                for kind in ("Read", "Write")] + [
                {"Id": "throttled", "Expression": "read + write", "Label": "throttled requests", "ReturnData": True}]}, 1)
    return resources


def _index_logical(index_name: str) -> str:
    return "".join(part.capitalize() for part in index_name.replace("_", "-").split("-"))


def dashboard(stage: str) -> dict[str, Any]:
    def widget(title: str, metrics: list[Any], x: int, y: int, stat: str = "Sum", period: int = 3600) -> dict[str, Any]:
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": {
            "title": title, "region": "${AWS::Region}", "stat": stat, "period": period, "metrics": metrics}}
    search = "SEARCH('{%s,service,result,gate} MetricName=\"Redemptions\"', 'Sum', 3600)" % APP
    body = {"widgets": [
        widget("Sales: orders paid and GMV (fen)", [[APP, "OrdersPaid", "service", APP],
                                                    [APP, "GMV", "service", APP, {"yAxis": "right"}]], 0, 0),
        widget("Orders placed, cancelled, expired; sold-out rejections", [
            [APP, "OrdersPlaced", "service", APP], [APP, "OrdersCancelled", "service", APP],
            [APP, "OrdersExpired", "service", APP], [APP, "SoldOutRejections", "service", APP]], 12, 0),
        widget("Redemptions by gate and result, per hour", [[{"expression": search, "id": "gates"}]], 0, 6),
        widget("Stock alerts", [[APP, "LowStockAlerts", "service", APP]], 12, 6),
        widget("Refunds", [[APP, "Refunds", "service", APP, "result", "succeeded"],
                           [APP, "Refunds", "service", APP, "result", "failed"],
                           [APP, "PaymentsRefundedAutomatically", "service", APP, "reason", "amount_mismatch"]], 0, 12),
        widget("Rejected scans", [[APP, "RedemptionsRejected", "service", APP]], 12, 12, period=300),
        widget("DynamoDB throttled requests, by table and index", [[{"expression": (
            "SEARCH('{AWS/DynamoDB,TableName} MetricName=\"ReadThrottleEvents\" OR "
            "MetricName=\"WriteThrottleEvents\"', 'Sum', 60)"), "id": "throttled"}], [{"expression": (
                "SEARCH('{AWS/DynamoDB,TableName,GlobalSecondaryIndexName} MetricName=\"ReadThrottleEvents\" OR "
                "MetricName=\"WriteThrottleEvents\"', 'Sum', 60)"), "id": "indexes"}]], 0, 18, period=60),
    ]}
    return {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": sub(f"{APP}-{stage}"), "DashboardBody": sub(json.dumps(body))}}


# ------------------------------------------------------------------ the Lambda package

def lambda_package(out: Path) -> None:
    """Rebuilds deployment.zip for the Lambda runtime: `chalice package` builds for the Python
    it runs on, so the dependencies are fetched again as manylinux wheels for RUNTIME; the app
    and chalice's own runtime module are taken from chalice's package."""
    chalice_zip = out / "deployment.zip"
    deps = out / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(deps),
                    "--platform", "manylinux2014_x86_64", "--implementation", "cp",
                    "--python-version", PYTHON_VERSION, "--only-binary=:all:", "-r", str(ROOT / "requirements.txt")],
                   check=True)
    with zipfile.ZipFile(chalice_zip) as built:
        ours = {name: built.read(name) for name in built.namelist()
                if name == "app.py" or name.startswith(("chalicelib/", "chalice/"))}
    chalice_zip.unlink()
    with zipfile.ZipFile(chalice_zip, "w", zipfile.ZIP_DEFLATED) as package:
        for path in sorted(deps.rglob("*")):
            relative = path.relative_to(deps).as_posix()
            if path.is_file() and "__pycache__" not in relative and not relative.startswith("bin/"):
                package.writestr(zipfile.ZipInfo(relative, (1980, 1, 1, 0, 0, 0)), path.read_bytes(),
                                 zipfile.ZIP_DEFLATED)
        for name, data in sorted(ours.items()):
            package.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    shutil.rmtree(deps)


# ------------------------------------------------------------------ the whole template

def build(stage: str, out: Path) -> dict[str, Any]:
    env = stage_environment(stage)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from chalicelib.adapters.tables import ALL_TABLES
    from chalicelib.api.gateway_responses import GATEWAY_RESPONSES

    package_env = {**os.environ, **env, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-east-1")}
    for name in ("JWT_SECRET", "DATA_KEY", "QR_SIGNING_KEYS", "WECHATPAY_CONFIG", "SANDBOX_PLATFORM_PRIVATE_KEY"):
        package_env.pop(name, None)
    if out.exists():
        shutil.rmtree(out)
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--stage", stage, str(out)], cwd=ROOT, env=package_env, check=True,
                   stdout=subprocess.DEVNULL)
    template = json.loads((out / "sam.json").read_text())
    (out / "sam.json").unlink()
    lambda_package(out)
    resources = template["Resources"]

    template["Description"] = f"micromall ({stage}): tickets and goods of a venue, sold through a WeChat mini-program"
    template["Parameters"] = {
        "WeChatAppId": {"Type": "String", "Default": "", "Description": "the mini-program's AppID"},
        "AlertEmail": {"Type": "String", "Default": "", "Description": "e-mail subscribed to operational alerts"},
        "RejectedScansPerFiveMinutes": {"Type": "Number", "Default": 50,
                                        "Description": "rejected scans in five minutes that raise an alarm"},
        "ApiRateLimit": {"Type": "Number", "Default": 200, "Description": "steady requests per second"},
        "ApiBurstLimit": {"Type": "Number", "Default": 400, "Description": "burst of requests"},
        "ExpiryWorkerConcurrency": {"Type": "Number", "Default": 100, "MinValue": 2, "MaxValue": 1000,
                                    "Description": "expiry workers at once (docs/CAPACITY.md: about 20 orders/s each)"},
    }
    template["Conditions"] = {"HasAlertEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]}}

    tables = table_resources(ALL_TABLES)
    resources.update(tables)
    resources.update(messaging_resources(env))
    resources.update(secret_resources(stage))

    functions = sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function")
    for name in functions:
        properties = resources[name]["Properties"]
        variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
        variables.update({"ALERTS_TOPIC_ARN": {"Ref": "AlertsTopic"}, "WECHAT_APPID": {"Ref": "WeChatAppId"},
                          **{var: {"Ref": secret} for secret, (var, _, _) in SECRETS.items()}})
        properties["Tracing"] = "Active"
        properties["Runtime"] = RUNTIME
        if name != "APIHandler":
            properties["Timeout"] = WORKER_TIMEOUT
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                named = event["Properties"]["Queue"]["Fn::Sub"]
                queue = ("RefundsQueue" if named.endswith("-refunds") else
                         "ExpiryQueue" if named.endswith("-expiry.fifo") else
                         "NotificationsQueue" if named.endswith("-notifications") else "AlertsQueue")
                event["Properties"]["Queue"] = arn(queue)
                # Chalice does not set it: without it one failed message retries the whole batch.
                event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
                if queue == "ExpiryQueue":
                    # Expiry scales out with the orders due (one message group each), up to what
                    # WeChat's query and close APIs and the account's concurrency should carry.
                    event["Properties"]["ScalingConfig"] = {"MaximumConcurrency": {"Ref": "ExpiryWorkerConcurrency"}}
            if event["Type"] == "DynamoDB":
                stream_events(event["Properties"])
    streamed = sorted(k for k, v in tables.items() if "StreamSpecification" in v["Properties"])
    resources["DefaultRole"]["Properties"]["Policies"] = [least_privilege_policy(sorted(tables), streamed)]

    api = resources["RestAPI"]["Properties"]
    api_name = f"{APP}-{stage}"
    api["Name"] = api_name
    api["TracingEnabled"] = True
    api["MethodSettings"] = [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                              "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
                              "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"}}]
    api["DefinitionBody"]["x-amazon-apigateway-gateway-responses"] = {
        kind: {"statusCode": str(status), "responseParameters": {"gatewayresponse.header.Content-Type": "'application/json'"},
               "responseTemplates": {"application/json": json.dumps(
                   {"code": code, "message": message, "details": {}})}}
        for kind, (status, code, message) in GATEWAY_RESPONSES.items()}

    stream_readers = [name for name in functions if any(
        e["Type"] == "DynamoDB" for e in resources[name]["Properties"].get("Events", {}).values())]
    resources.update(alarm_resources(functions, api_name, stream_readers))
    resources.update(throttle_alarms(tables))
    resources["Dashboard"] = dashboard(stage)
    template.setdefault("Outputs", {}).update({
        "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
        "RefundsQueueUrl": {"Value": {"Ref": "RefundsQueue"}},
        "AlertsQueueUrl": {"Value": {"Ref": "AlertsQueue"}},
        "ExpiryQueueUrl": {"Value": {"Ref": "ExpiryQueue"}},
        "NotificationsQueueUrl": {"Value": {"Ref": "NotificationsQueue"}},
    })
    (out / "template.json").write_text(json.dumps(template, indent=1, sort_keys=True) + "\n")
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="prod", choices=("dev", "prod"))
    parser.add_argument("--out", default=str(ROOT / "build" / "infra"))
    args = parser.parse_args()
    build(args.stage, Path(args.out))
    print(f"wrote {Path(args.out) / 'template.json'} and deployment.zip")


if __name__ == "__main__":
    main()
