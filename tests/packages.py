"""The product's top-level packages, bottom up (docs/ARCHITECTURE.md), for tests that read
the source tree."""

PACKAGES = (
    "core",
    "wechat",
    "component",
    "authorizers",
    "merchant_api",
    "tags",
    "token_center",
    "webhooks",
    "sandbox",
    "platform_app",
)
