"""Deadlines and reminders, platform-neutral: planning in each city's time and calendar, the
audience, the reminders' words, delivery, status, the weekly digest and joint-campaign days.
Commands live in `bot/handlers/deadline.py`; time-driven work in `bot/jobs/`."""
