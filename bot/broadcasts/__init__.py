"""Broadcasts: the ICC team's announcements to the network.

- `audience`: who a broadcast reaches (`all`, `group:`, `network:`, `lang:`, `cities:`).
- `timing`: `at=` in the sender's time zone.
- `service`: `Broadcasts` (`bot.service(Broadcasts)`), what the commands and buttons do: preview,
  confirm, cancel, edit, status, list.
- `delivery`: the outbox's `broadcast` handler, one translation per language, the report.
- `render`: the preview, status, report and list as the sender reads them.
"""
