"""micromall: the service code packaged into the Lambda functions."""
