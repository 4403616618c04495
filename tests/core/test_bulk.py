"""rows_insert / rows_update (apps/core/bulk.py) write what Django's bulk_create / bulk_update would."""
from datetime import datetime, timedelta, timezone

import pytest
from django.forms.models import model_to_dict

from apps.core import bulk
from apps.core.bulk import rows_insert, rows_update
from apps.inbox.models import Conversation, ConversationEvent, Message

WHEN = datetime(2026, 12, 5, 10, 30, tzinfo=timezone.utc)


def _stored(model, pks, skip=("id", "created_at")):
    return [{k: v for k, v in model_to_dict(o).items() if k not in skip}
            for o in model.objects.filter(pk__in=pks).order_by("pk")]


# Texts the COPY's CSV must carry exactly: quotes, separators, line ends, backslashes, the NULL
# marker as a text, an empty text beside a NULL, tabs and non-ASCII.
HOSTILE = ['', '\\N', 'a,"b"\nc\r\nd', 'C:\\ruta\\nueva', '\t«Ñandú» 😀', 'NULL', ' ']


@pytest.fixture(params=["insert", "copy"])
def insert_way(request, monkeypatch):
    """rows_insert's two ways: one INSERT (small batches) and COPY (from COPY_FROM_ROWS rows)."""
    monkeypatch.setattr(bulk, "COPY_FROM_ROWS", 1 if request.param == "copy" else 10**9)
    return request.param


@pytest.mark.django_db
def test_rows_insert_stores_what_bulk_create_stores(account, make_user, insert_way):
    # given the same new conversations, messages (a parent saved after its children were built,
    # choices, JSON, None, aware datetimes, an author, hostile texts) and events, written both ways
    author = make_user()

    def build():
        conversation = Conversation(channel_account=account, subject="Pedido 1234", status=Conversation.Status.OPEN,
                                    last_activity_at=WHEN, waiting_since=WHEN - timedelta(minutes=5))
        messages = [Message(conversation=conversation, channel_account=account, direction=Message.Direction.OUT,
                            text=f"Hola {i}", subject=HOSTILE[i % len(HOSTILE)], html=HOSTILE[-1 - i % len(HOSTILE)],
                            sent_at=WHEN + timedelta(seconds=i), external_id=f"x{i}",
                            metadata={"provider_id": f"p{i}", "n": [1, 2], "t": HOSTILE[i % len(HOSTILE)]},
                            author=author if i else None)
                     for i in range(len(HOSTILE))]
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


@pytest.mark.django_db
def test_rows_insert_keeps_null_apart_from_empty_text(account, insert_way):
    # given a nullable text left NULL on one message and empty on another
    from apps.crm.models import Customer

    customer = Customer.objects.create(display_name="Ana")
    conversation = Conversation.objects.create(channel_account=account, customer=customer, last_activity_at=WHEN)
    rows = [Message(conversation=conversation, customer=customer, channel_account=account, text="\\N", sent_at=WHEN,
                    external_id=external_id) for external_id in (None, "", "\\N")]
    # when
    rows_insert(rows)
    # then each is stored as it was, with the ids the instances were given
    stored = dict(Message.objects.filter(conversation=conversation).values_list("id", "external_id"))
    assert stored == {rows[0].pk: None, rows[1].pk: "", rows[2].pk: "\\N"}
    assert set(Message.objects.filter(conversation=conversation).values_list("text", flat=True)) == {"\\N"}


@pytest.mark.django_db
def test_rows_insert_copies_from_a_batch_size_on(account, django_assert_num_queries):
    # given a batch as big as the COPY threshold
    from apps.crm.models import Customer

    customer = Customer.objects.create(display_name="Ana")
    conversation = Conversation.objects.create(channel_account=account, customer=customer, last_activity_at=WHEN)
    rows = [Message(conversation=conversation, customer=customer, channel_account=account, text=f"m{i}", sent_at=WHEN,
                    external_id=f"c{i}") for i in range(bulk.COPY_FROM_ROWS)]
    # when: the ids from the sequence, then one COPY
    with django_assert_num_queries(2) as queries:
        rows_insert(rows)
    # then
    assert queries.captured_queries[1]["sql"].startswith("COPY ")
    assert sorted(m.pk for m in rows) == sorted(Message.objects.filter(conversation=conversation).values_list("id", flat=True))
    # and the sequence moved past them: the next row inserted the usual way takes a new id
    later = Message.objects.create(conversation=conversation, customer=customer, channel_account=account, text="x", sent_at=WHEN)
    assert later.pk > max(m.pk for m in rows)
