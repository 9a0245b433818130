"""icc-bot: the Intercultural Cities network's chat bot (platform-neutral core)."""

__version__ = "0.1.0"
