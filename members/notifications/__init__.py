"""Notifications: in-site messages, their WeChat subscribe-message mirror and the opt-ins it consumes."""
