"""The network's registry: networks, cities, groups, channels, people and their roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Network(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)


class City(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=200)
    country: str = Field(max_length=100)
    language: str = Field(max_length=12)
    timezone: str = Field(max_length=64)
    network_id: int | None = Field(default=None, foreign_key="network.id", index=True)
    note: str = Field(default="", max_length=200)
    reminders_to: str = Field(default="channel", max_length=16)
    """Where the city's reminders go: its channel, or its coordinators by DM."""


class Group(SQLModel, table=True):
    # "group" is an SQL keyword; a plain name keeps hand-written SQL simple.
    __tablename__ = "icc_group"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="thematic", max_length=16)
    topic: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="person.id")


class GroupCity(SQLModel, table=True):
    __tablename__ = "group_city"

    group_id: int = Field(foreign_key="icc_group.id", primary_key=True)
    city_id: int = Field(foreign_key="city.id", primary_key=True, index=True)


class Channel(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    language: str = Field(default="en", max_length=12)
    fallback_language: str | None = Field(default=None, max_length=12)
    """Shown when DeepL offers no translation into `language` (Croatian, Maltese, …)."""
    formality: str | None = Field(default=None, max_length=16)
    group_id: int | None = Field(default=None, foreign_key="icc_group.id", index=True)
    city_id: int | None = Field(default=None, foreign_key="city.id", index=True)
    """Set when this is a city's own channel (its reminders land here)."""
    linked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    linked_by_id: int | None = Field(default=None, foreign_key="person.id")


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    avatar_url: str | None = Field(default=None, max_length=500)
    city_id: int | None = Field(default=None, foreign_key="city.id", index=True)
    """The city this person coordinates."""
    language: str | None = Field(default=None, max_length=12)
    """Chosen with `/icc lang me`; wins over the platform's locale."""
    platform_locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """ICC team and group-lead roles. Coordinators are people with a city (`Person.city_id`)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("person_id", "role", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    group_id: int | None = Field(default=None, foreign_key="icc_group.id", index=True)
    scope: str = Field(default="", max_length=32)
    """`""` for network-wide roles, `group:<id>` for a group lead; keeps the unique key NULL-free."""
    granted_by_id: int | None = Field(default=None, foreign_key="person.id")
    granted_at: datetime = Field(sa_type=UTCDateTime)
