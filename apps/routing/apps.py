from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "apps.routing"
    label = "routing"

    def ready(self):
        # The inbox says when work may be waiting and asks how much an agent may still take through
        # its own contract (apps/inbox/queue.py); routing answers it. Connected once every app is loaded.
        from apps.inbox.queue import queue_connect

        from .assignment import agent_capacity_left, agents_pick, queue_drain
        from .services import priority_judge

        queue_connect(changed=queue_drain, capacity_left=agent_capacity_left, pick=agents_pick, judge=priority_judge)
