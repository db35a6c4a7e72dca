# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit synth deploy clean browser bench

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m local.stack

# Debian's Chromium for the browser tests (Playwright's own download does not work here), and a
# CJK font so that the screenshots show the pages' Chinese. As root, or through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			chromium fonts-wqy-microhei >/dev/null)

# The whole suite (browser tests included), the end-to-end layer and the contract's acceptance suite
# again with 5% of the embedded AWS's DynamoDB and SQS requests failing as AWS fails (LOCAL_FAULT_RATE);
# independent layers side by side (local/test_suite.py), each step's log in build/test-logs/.
test: $(STAMP) browser
	$(PY) -m local.test_suite

# A bounded load run against a fresh local stack (loopback only): lines `BENCH <name> <value> <unit>`.
# BENCH_CLIENTS (16), BENCH_SECONDS per phase (15) and BENCH_MAX_OPS (2000) bound it.
bench: $(STAMP)
	$(PY) -m local.bench
	$(PY) -m local.cold_start

unit: $(STAMP)
	$(PY) -m pytest tests/unit

# The deployable template (SAM) and Lambda package of a stage, into build/infra/. No AWS account needed.
STAGE ?= prod
synth: $(STAMP)
	$(PY) -m infra.synth --stage $(STAGE) --out build/infra
	$(VENV)/bin/cfn-lint build/infra/template.json

# Needs AWS credentials, BUCKET (for the code) and optionally WECHAT_APPID and ALERT_EMAIL.
# The AWS CLI gets a virtual environment of its own: its botocore pin differs from the app's.
deploy: synth
	test -x .venv-deploy/bin/aws || ($(PYTHON) -m venv .venv-deploy && .venv-deploy/bin/pip install --quiet awscli)
	.venv-deploy/bin/aws cloudformation package --template-file build/infra/template.json \
		--s3-bucket $(BUCKET) --output-template-file build/infra/packaged.json
	.venv-deploy/bin/aws cloudformation deploy --template-file build/infra/packaged.json \
		--stack-name micromall-$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
		--parameter-overrides WeChatAppId=$(WECHAT_APPID) AlertEmail=$(ALERT_EMAIL)

clean:
	rm -rf $(VENV) .venv-deploy build .pytest_cache
