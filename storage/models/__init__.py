"""Every table of the bot. Importing this package registers them all on `SQLModel.metadata`,
which Alembic compares with the migrations."""

from sqlmodel import SQLModel

# Deterministic constraint names, so migrations written on SQLite apply on PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from storage.models.broadcasts import Broadcast, BroadcastCopy, BroadcastTarget  # noqa: E402
from storage.models.deadlines import Deadline, DeadlineCity, Notice, NoticeBatch, Reminder  # noqa: E402
from storage.models.discord import DiscordThreadPost, DiscordWebhook  # noqa: E402
from storage.models.practices import Practice, PracticeTopic  # noqa: E402
from storage.models.registry import (  # noqa: E402
    Channel,
    City,
    Group,
    GroupCity,
    Network,
    Person,
    RoleGrant,
)
from storage.models.relay import (  # noqa: E402
    EventClaim,
    OutboxItem,
    OutboxLane,
    RelayCopy,
    RelayMessage,
)
from storage.models.translation import (  # noqa: E402
    DeepLGlossary,
    FlagTranslation,
    TranslationCacheEntry,
    TranslationUsage,
)

# Database objects that migrations build in raw SQL and no model describes (full-text indexes):
# Alembic's comparison of models and database leaves them alone.
UNMANAGED_TABLE_PREFIXES: tuple[str, ...] = ("practice_fts",)
UNMANAGED_COLUMNS: frozenset[tuple[str, str]] = frozenset({("practice", "search")})
UNMANAGED_INDEXES: frozenset[str] = frozenset({"ix_practice_search"})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's `include_object` hook: skip the unmanaged objects above."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(UNMANAGED_TABLE_PREFIXES)
    if type_ == "column":
        table = getattr(getattr(obj, "table", None), "name", "")
        return (table, name) not in UNMANAGED_COLUMNS
    if type_ == "index":
        return name not in UNMANAGED_INDEXES
    return True


__all__ = ["Broadcast", "BroadcastCopy", "BroadcastTarget", "Channel", "City", "Deadline", "DeadlineCity",
           "DeepLGlossary", "DiscordThreadPost", "DiscordWebhook", "EventClaim", "FlagTranslation", "Group",
           "GroupCity", "Network", "Notice", "NoticeBatch", "OutboxItem", "OutboxLane", "Person", "Practice",
           "PracticeTopic", "RelayCopy", "RelayMessage", "Reminder", "RoleGrant", "SQLModel",
           "TranslationCacheEntry", "TranslationUsage", "include_object"]
