"""The local stack of `make run`: moto as AWS, chalice's local gateway as API Gateway. Not deployed."""
