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

__all__ = ["Broadcast", "BroadcastCopy", "BroadcastTarget", "Channel", "City", "DeepLGlossary", "EventClaim",
           "FlagTranslation", "Group", "GroupCity", "Network", "OutboxItem", "OutboxLane", "Person", "RelayCopy",
           "RelayMessage", "RoleGrant", "SQLModel", "TranslationCacheEntry", "TranslationUsage"]
