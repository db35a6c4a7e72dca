"""Adapters: DynamoDB, security primitives, WeChat login. The only package that imports AWS."""
