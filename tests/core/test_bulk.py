"""rows_insert / rows_update (apps/core/bulk.py) write what Django's bulk_create / bulk_update would."""
from datetime import datetime, timedelta, timezone

import pytest
from django.forms.models import model_to_dict

from apps.core.bulk import rows_insert, rows_update
from apps.inbox.models import Conversation, ConversationEvent, Message

WHEN = datetime(2026, 12, 5, 10, 30, tzinfo=timezone.utc)


def _stored(model, pks, skip=("id", "created_at")):
    return [{k: v for k, v in model_to_dict(o).items() if k not in skip}
            for o in model.objects.filter(pk__in=pks).order_by("pk")]


@pytest.mark.django_db
def test_rows_insert_stores_what_bulk_create_stores(account, make_user):
    # given the same new conversations, messages (a parent saved after its children were built,
    # choices, JSON, None, aware datetimes, an author) and events, written both ways
    author = make_user()

    def build():
        conversation = Conversation(channel_account=account, subject="Pedido 1234", status=Conversation.Status.OPEN,
                                    last_activity_at=WHEN, waiting_since=WHEN - timedelta(minutes=5))
        messages = [Message(conversation=conversation, channel_account=account, direction=Message.Direction.OUT,
                            text=f"Hola {i}", sent_at=WHEN + timedelta(seconds=i), external_id=f"x{i}",
                            metadata={"provider_id": f"p{i}", "n": [1, 2]}, author=author if i else None)
                     for i in range(3)]
        return conversation, messages

    def write(save):
        conversation, messages = build()
        conversation.customer = make_customer()
        save([conversation])
        for m in messages:
            m.customer_id = conversation.customer_id
            m.external_id += f"-{save.__name__}"
        save(messages)  # conversation_id comes from the parent saved meanwhile
        events = [ConversationEvent(conversation=conversation, kind=ConversationEvent.Kind.STATUS, data={"to": "open"})]
        save(events)
        return conversation, messages, events

    from apps.crm.models import Customer

    def make_customer():
        return Customer.objects.create(display_name="Ana")

    def django_way(rows):
        type(rows[0]).objects.bulk_create(rows)

    ours, theirs = write(rows_insert), write(django_way)
    # then every instance has its id and is saved, as bulk_create leaves them
    for conversation, messages, events in (ours, theirs):
        assert all(o.pk and not o._state.adding for o in [conversation, *messages, *events])
    # and the rows stored are the same (but for ids, the stamps of now and what the tests made differ)
    differ = ("id", "created_at", "updated_at", "conversation", "customer", "external_id")
    assert _stored(Message, [m.pk for m in ours[1]], differ) == _stored(Message, [m.pk for m in theirs[1]], differ)
    assert _stored(Conversation, [ours[0].pk], differ) == _stored(Conversation, [theirs[0].pk], differ)
    assert _stored(ConversationEvent, [ours[2][0].pk], differ) == _stored(ConversationEvent, [theirs[2][0].pk], differ)
    # and the children point at their parent, the auto_now_add stamp is set
    assert set(Message.objects.filter(pk__in=[m.pk for m in ours[1]]).values_list("conversation_id", flat=True)) == {ours[0].pk}
    assert Message.objects.get(pk=ours[1][0].pk).created_at is not None
    # and rows_update writes fields back as bulk_update would
    ours[1][0].text, ours[1][0].metadata, ours[1][0].delivery_status = "Editado", {"edited": True}, Message.Delivery.FAILED
    rows_update(ours[1][:1], ["text", "metadata", "delivery_status"])
    stored = Message.objects.get(pk=ours[1][0].pk)
    assert (stored.text, stored.metadata, stored.delivery_status) == ("Editado", {"edited": True}, "failed")
