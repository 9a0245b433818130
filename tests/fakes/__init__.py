"""Loopback fakes of the services icc-bot talks to (Slack, Discord, DeepL).

Each fake is a small aiohttp server on 127.0.0.1 (port 0) that the *real* client libraries
talk to; it records every request and can inject latency and faults. See each module's
docstring: ``fake_slack``/``slack_payloads``, ``fake_discord``/``discord_gateway``,
``fake_deepl``.
"""
