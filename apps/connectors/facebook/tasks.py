"""Celery tasks of the facebook channel (beat schedule in config/settings.py)."""
