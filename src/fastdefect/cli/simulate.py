"""Placeholder replaced by the simulator work."""


def register(app):
    return None
