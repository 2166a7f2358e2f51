"""Warm services (暖心服务): the worker's help requests, and the caseworker's queue and SLA policies."""
