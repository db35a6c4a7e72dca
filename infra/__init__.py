"""Deployment: the CloudFormation (SAM) template of a stage, built from `chalice package` and
the PynamoDB models, with no AWS account needed to build it."""
