"""The sandbox cashier: paying sandbox orders without WeChat, for development, tests and the demo.

Its pages and API are routed only when `PAYMENTS_SANDBOX_ENABLED` is on in the settings module
(dev and test; production settings force it off, so production never routes them). The sandbox
gateway itself (WeChat's side: signed notifications) is `payments.gateways.sandbox`.
"""
