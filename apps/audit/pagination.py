from apps.core.keyset import KeysetPagination


class AuditPagination(KeysetPagination):
    ordering = ("-created_at", "-id")
    page_size = 100
