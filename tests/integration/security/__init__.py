"""Helpers for the security and reliability tests: certificates, NATS JWT chains, server configs."""
