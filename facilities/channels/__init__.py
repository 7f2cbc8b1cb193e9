"""Channels: admin-configured outbound webhooks that receive the park's public news."""
