"""Use cases: one function per thing a user does. Each receives its storage and gateways."""
