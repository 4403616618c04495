"""Celery tasks of the twitter channel (beat schedule in config/settings.py)."""
