"""Configuration from the environment and `.env` (pydantic-settings). Secrets are SecretStr, so
they print as '**********' everywhere, logs and error messages included."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL, DatabaseURLError, parse_url


@dataclass(frozen=True)
class AdminId:
    platform: str
    user: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    database_url: SecretStr = Field(default=SecretStr(DEFAULT_URL))
    icc_admins: str = ""
    """First ICC-team members: `slack:U123,discord:456,console:alice`."""

    slack_bot_token: SecretStr | None = None
    """One bot token, or one per workspace the app is installed in, separated by commas."""
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None

    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_guild_ids: str = ""
    """Guilds to sync commands to at once (development); empty → global sync."""

    deepl_auth_key: SecretStr | None = None
    deepl_server_url: str | None = None
    deepl_max_workers: int = Field(default=16, ge=1, le=64)
    """Threads for DeepL calls (the client blocks). One relayed message asks one request per target
    language at once; fewer threads than languages in use make them wait in turn."""

    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    bot_name: str = "ICC bot"
    icc_timezone: str = "Europe/Paris"
    """The ICC team's time zone: weekly digest, campaign announcements, a deadline's passing."""
    broadcast_name: str = "ICC team"
    """The name broadcasts are posted under (Slack `chat:write.customize`, Discord webhooks)."""
    broadcast_avatar_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: SecretStr) -> SecretStr:
        try:
            parse_url(value.get_secret_value())
        except DatabaseURLError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("icc_admins")
    @classmethod
    def _valid_admins(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            platform, _, user = entry.partition(":")
            if platform not in {"slack", "discord", "console"} or not user:
                raise ValueError(f"ICC_ADMINS entry '{entry}' is not platform:user "
                                 "(platform is slack, discord or console)")
        return value

    @field_validator("icc_timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/Paris") from None
        return value

    @field_validator("discord_guild_ids")
    @classmethod
    def _valid_guild_ids(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            if not entry.isdigit():
                raise ValueError(f"'{entry[:30]}' is not a Discord server id (a number: right-click the server, "
                                 "Copy Server ID)")
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def database(self) -> str:
        return self.database_url.get_secret_value()

    @property
    def admins(self) -> frozenset[AdminId]:
        entries = filter(None, (part.strip() for part in self.icc_admins.split(",")))
        return frozenset(AdminId(*entry.split(":", 1)) for entry in entries)

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None)

    @property
    def slack_bot_tokens(self) -> list[str]:
        if self.slack_bot_token is None:
            return []
        return [token.strip() for token in self.slack_bot_token.get_secret_value().split(",") if token.strip()]

    @property
    def discord_configured(self) -> bool:
        return self.discord_token is not None

    @property
    def discord_guilds(self) -> list[int]:
        """Servers whose commands are registered directly (development); empty → global commands."""
        return [int(part) for part in self.discord_guild_ids.split(",") if part.strip()]

    @property
    def deepl_configured(self) -> bool:
        return self.deepl_auth_key is not None

    def secrets(self) -> list[str]:
        """Every secret value, for the log filter that keeps them out of log lines."""
        values = [self.slack_bot_token, self.slack_app_token, self.slack_signing_secret,
                  self.discord_token, self.deepl_auth_key]
        found = [value.get_secret_value() for value in values if value is not None]
        found += self.slack_bot_tokens if len(self.slack_bot_tokens) > 1 else []
        try:
            password = parse_url(self.database).password
        except DatabaseURLError:
            password = None
        if password:
            found.append(str(password))
        return [secret for secret in found if len(secret) >= 4]


def describe_errors(error: ValidationError) -> list[str]:
    """One clear line per wrong value, naming the variable, never echoing the value."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return lines
