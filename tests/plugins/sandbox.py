"""Pytest fixtures for the WeChat sandbox (being written)."""
