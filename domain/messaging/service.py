"""Secure messaging: conversations, idempotent sends with a gap-free per-conversation sequence, reads,
receipts, welcome messages and after-hours replies. Bodies are sealed; the bus carries ids only."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.audit.events import AuditEvent, event_by
from domain.messaging.batching import Batcher
from domain.messaging.bus import BusEvent, MessageBus
from domain.messaging.model import (
    AUTO_REPLY,
    DEFAULT_WELCOME,
    Conversation,
    Message,
    MessageKind,
    check_body,
    check_client_message_id,
)
from domain.messaging.ports import (
    ClientMessageStored,
    ConversationSummary,
    MessagingUnitOfWork,
    Presence,
    StoredMessage,
)
from domain.scheduling.model import OfficeHours
from domain.scheduling.reminders import first_name, format_local
from domain.scheduling.slots import working_intervals
from domain.shared.cipher import AadContext, PayloadCipher, WrappedDataKey
from domain.shared.data_keys import data_key, new_data_key
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from domain.shared.jobs import JobRequest
from domain.shared.notify import EmailMessage, EmailSender
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal

log = logging.getLogger("hearth.messaging")

MAX_PAGE = 200
NOTIFY_UNREAD_JOB = "messages.notify_unread"
# Sends arriving together in one process share a transaction (see `_store_batch`), at most this many.
MAX_SEND_BATCH = 64


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    created: bool  # False: the same client_message_id was already stored (an idempotent retry)


@dataclass(frozen=True, slots=True)
class Started:
    summary: ConversationSummary
    created: bool  # False: the conversation was open already; nothing was created


@dataclass(frozen=True, slots=True)
class _SendRequest:
    principal: Principal
    conversation_id: uuid.UUID
    client_message_id: str
    body: str


# Told, in this process and right after the commit, of the messages a send stored (the user's, and the automatic
# reply when there is one), in seq order: lets the process push them to its own sockets without reading them back.
StoredListener = Callable[[Conversation, Sequence[Message]], None]


def _reused() -> ValidationFailed:
    return ValidationFailed(
        "This client_message_id was already used for another message.",
        code="client_message_id_reused",
        field="client_message_id",
    )


def _closed() -> Conflict:
    return Conflict(
        "This conversation is closed: the care relationship ended. It stays readable.", code="conversation_closed"
    )


@functools.lru_cache(maxsize=4096)
def _aad_of(conversation_id: uuid.UUID, sender_id: uuid.UUID) -> AadContext:
    # Every message a sender writes into a conversation shares all but the row: built and checked once.
    return AadContext.of("messages", "-", "body", conversation=conversation_id, sender=sender_id)


def _aad(conversation_id: uuid.UUID, message_id: uuid.UUID, sender_id: uuid.UUID) -> AadContext:
    return _aad_of(conversation_id, sender_id).for_row(message_id)


class MessagingService:
    def __init__(
        self,
        uow: Callable[[], MessagingUnitOfWork],
        cipher: PayloadCipher,
        clock: Clock,
        ids: IdGenerator,
        bus: MessageBus | None = None,
        email: EmailSender | None = None,
        base_url: str = "http://127.0.0.1:8000",
        notify_after: timedelta = timedelta(minutes=10),
        notify_throttle: timedelta = timedelta(hours=1),
    ) -> None:
        self._email = email
        self._base_url = base_url.rstrip("/")
        self._notify_after = notify_after
        self._notify_throttle = notify_throttle
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids
        self._bus = bus
        self._sends: Batcher[_SendRequest, Sent] = Batcher(
            self._send_batch, MAX_SEND_BATCH, after=self._announce_stored
        )
        self._unannounced: list[BusEvent] = []
        self._notify_pending: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
        self._stored_listeners: list[StoredListener] = []

    def attach_bus(self, bus: MessageBus) -> None:
        self._bus = bus

    @property
    def send_batches(self) -> tuple[int, int]:
        """How many send batches ran in this process, and the largest one (diagnostics, tests)."""
        return self._sends.batches, self._sends.largest

    def on_stored(self, listener: StoredListener) -> None:
        """`listener` is called after each send's commit with the messages it stored (see StoredListener)."""
        self._stored_listeners.append(listener)

    # ------------------------------------------------------------------------------ conversations

    async def open_in(
        self, uow: MessagingUnitOfWork, client_id: uuid.UUID, therapist_id: uuid.UUID, practice_id: uuid.UUID
    ) -> Conversation:
        """Inside the caller's transaction (a first booking, a match): the pair's conversation, opened with the
        therapist's welcome message when it is new."""
        conversation, _ = await self._open_in(uow, client_id, therapist_id, practice_id)
        return conversation

    async def _open_in(
        self, uow: MessagingUnitOfWork, client_id: uuid.UUID, therapist_id: uuid.UUID, practice_id: uuid.UUID
    ) -> tuple[Conversation, bool]:
        """`open_in`, and whether this call created the conversation."""
        existing = await uow.conversations.open_for(client_id, therapist_id)
        if existing is not None:
            return existing, False
        now = self._clock.now()
        key_id, _ = await new_data_key(uow, self._cipher, self._ids.new, now)
        conversation = Conversation(
            id=self._ids.new(),
            client_id=client_id,
            therapist_id=therapist_id,
            practice_id=practice_id,
            data_key_id=key_id,
            last_seq=0,
            created_at=now,
        )
        if not await uow.conversations.add(conversation):
            found = await uow.conversations.open_for(client_id, therapist_id)
            assert found is not None
            return found, False
        client = await uow.users.get(client_id)
        therapist = await uow.users.get(therapist_id)
        template = await uow.conversations.welcome_template(therapist_id) or DEFAULT_WELCOME
        text = template.replace("{client}", first_name(client.display_name) if client else "there").replace(
            "{therapist}", therapist.display_name if therapist else "your therapist"
        )
        # The conversation as it is now, with its welcome message (what a POST that opened it answers).
        welcome, conversation = await self._append(
            uow, conversation, therapist_id, f"welcome-{conversation.id}", MessageKind.WELCOME, text
        )
        # Once the caller's transaction commits, sockets open now (the client's app, the therapist's devices) get
        # it without waiting for the conversation's next message. Rung per participant: a process that has not
        # seen the conversation yet need not ask every one of its sockets whether it is theirs.
        rings = [
            BusEvent("message", conversation_id=conversation.id, seq=welcome.seq, user_id=user)
            for user in (client_id, therapist_id)
        ]
        uow.after_commit(functools.partial(self._publish_many, rings))
        return conversation, True

    async def close_in(self, uow: MessagingUnitOfWork, client_id: uuid.UUID, therapist_id: uuid.UUID) -> bool:
        """Inside the caller's transaction (care ended, e.g. a switch of therapist): the pair's open conversation
        becomes read-only; sends into it are refused with `conversation_closed`. False when none was open."""
        existing = await uow.conversations.open_for(client_id, therapist_id)
        if existing is None:
            return False
        await uow.conversations.close(existing.id, self._clock.now())
        return True

    async def start(self, principal: Principal, client_id: uuid.UUID) -> Started:
        """A therapist opens a conversation with one of their clients (POST by the therapist): the new one, or the
        one already open (`created` False), as the conversation list shows it."""
        async with self._uow() as uow:
            if principal.practice_id is None or not await uow.care.is_active(client_id, principal.user_id):
                raise NotFound("No such client.")
            conversation, created = await self._open_in(uow, client_id, principal.user_id, principal.practice_id)
            summary = await uow.conversations.summary(conversation.id, principal.user_id)
            await uow.commit()
        return Started(summary or ConversationSummary(conversation, 0), created)

    async def conversations(
        self, principal: Principal, *, after: tuple[datetime, uuid.UUID] | None = None, limit: int | None = None
    ) -> list[ConversationSummary]:
        """Newest first by (created_at, id), after that key when given; every one when `limit` is None."""
        async with self._uow() as uow:
            return await uow.conversations.for_user(principal.user_id, after=after, limit=limit)

    async def conversation(self, principal: Principal, conversation_id: uuid.UUID) -> Conversation:
        async with self._uow() as uow:
            return await self._visible(uow, principal, conversation_id)

    # ------------------------------------------------------------------------------ messages

    async def send(self, principal: Principal, conversation_id: uuid.UUID, client_message_id: str, body: str) -> Sent:
        """Store a message (or recognise a retry of one) and return it once committed. Concurrent sends in this
        process are grouped into one transaction (`_store_batch`); each still gets its own answer or error."""
        check_client_message_id(client_message_id)
        check_body(body)
        return await self._sends.submit(_SendRequest(principal, conversation_id, client_message_id, body))

    async def _send_batch(self, requests: Sequence[_SendRequest]) -> list[Sent | BaseException]:
        try:
            try:
                # Optimistic: a send is almost never a retry, so the batch does not look its client_message_ids
                # up; if one is stored already, the unique key refuses the INSERT and the batch runs again with
                # the lookup, which answers the retry (or `client_message_id_reused`).
                return await self._store_batch(requests, look_up=False)
            except ClientMessageStored:
                return await self._store_batch(requests, look_up=True)
        except Exception:
            if len(requests) == 1:
                raise
            # Something no single request explains (a deadlock, a lost connection): each one on its own, so
            # one request's trouble cannot fail or lose the others.
            log.warning("batched send failed; sending its %d messages one by one", len(requests), exc_info=True)
        outcomes: list[Sent | BaseException] = []
        for request in requests:
            try:
                outcomes.extend(await self._store_batch([request], look_up=True))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def _store_batch(self, requests: Sequence[_SendRequest], *, look_up: bool) -> list[Sent | BaseException]:
        """One transaction for all of `requests`, in arrival order, with exactly the semantics of sending them
        one after the other: the conversations are locked (in id order), so seq is assigned in commit order; a
        `client_message_id` already stored (or stored earlier in this batch) answers the stored message, or
        `client_message_id_reused` for another body; a closed conversation refuses that message only. Per-item
        refusals are returned, not raised; an exception means the whole transaction rolled back. Without
        `look_up`, stored client_message_ids are not read first: one among them raises ClientMessageStored."""
        outcomes: list[Sent | BaseException | None] = [None] * len(requests)
        stored_now: dict[uuid.UUID, list[Message]] = {}
        async with self._uow() as uow:
            targets = {
                t.conversation.id: t
                for t in await uow.conversations.lock_for_send([r.conversation_id for r in requests])
            }
            conversations = {c: t.conversation for c, t in targets.items()}
            live: list[int] = []
            for i, request in enumerate(requests):
                found = conversations.get(request.conversation_id)
                if found is None or not found.has(request.principal.user_id):
                    outcomes[i] = NotFound("No such conversation.")
                else:
                    live.append(i)
            if not live:
                return [o for o in outcomes if o is not None]
            already: dict[tuple[uuid.UUID, uuid.UUID, str], StoredMessage] = {}
            if look_up:
                keys = dict.fromkeys(
                    (requests[i].conversation_id, requests[i].principal.user_id, requests[i].client_message_id)
                    for i in live
                )
                already = {
                    (m.conversation_id, m.sender_id, m.client_message_id): m
                    for m in await uow.conversations.messages_by_client_ids(list(keys))
                }
            now = self._clock.now()
            fresh: dict[tuple[uuid.UUID, uuid.UUID, str], Message] = {}
            notify: dict[tuple[uuid.UUID, uuid.UUID], int] = {}  # (conversation, recipient) -> seq, see notify_unread
            rows: list[StoredMessage] = []
            events: list[AuditEvent] = []
            for i in live:
                request = requests[i]
                sender = request.principal.user_id
                conversation = conversations[request.conversation_id]
                key = targets[conversation.id].key
                if key is None:
                    outcomes[i] = NotFound("A data key is missing.", code="data_key_missing")
                    continue
                ident = (conversation.id, sender, request.client_message_id)
                earlier = fresh.get(ident)
                if earlier is None and ident in already:
                    earlier = self._open_with(key, conversation, already[ident])
                if earlier is not None:
                    outcomes[i] = Sent(earlier, created=False) if earlier.body == request.body else _reused()
                    continue
                if conversation.closed_at is not None:
                    outcomes[i] = _closed()
                    continue
                message, conversation = self._seal_next(
                    conversation, key, sender, request.client_message_id, MessageKind.USER, request.body, now, rows
                )
                fresh[ident] = message
                new = [message]
                text = await self._reply_text(uow, conversation, sender, targets[conversation.id].presence, now)
                if text is not None:
                    reply, conversation = self._seal_next(
                        conversation,
                        key,
                        conversation.therapist_id,
                        f"auto-{self._ids.new()}",
                        MessageKind.AUTO_REPLY,
                        text,
                        now,
                        rows,
                    )
                    conversation = replace(conversation, auto_replied_at=now)
                    new.append(reply)
                conversations[conversation.id] = conversation
                stored_now.setdefault(conversation.id, []).extend(new)
                recipient = (conversation.id, conversation.other(sender))
                if recipient not in notify and self._notify_pending.get(recipient, now) <= now:
                    notify[recipient] = message.seq
                events.append(self._event(request.principal, "message.write", message.id))
                outcomes[i] = Sent(message, created=True)
            if rows:
                # The writes' audit events go with the messages: one round trip fewer per batch.
                await uow.conversations.store(rows, [conversations[c] for c in stored_now], events)
                if notify:
                    await uow.jobs.enqueue_many(
                        [
                            JobRequest(
                                NOTIFY_UNREAD_JOB,
                                {"conversation_id": str(c), "user_id": str(u), "seq": str(seq)},
                                now + self._notify_after,
                            )
                            for (c, u), seq in notify.items()
                        ]
                    )
                await uow.commit()
                self._remember_notify_jobs(notify, now + self._notify_after, now)
        # Committed. Receivers pull from each conversation's first new seq (an automatic reply included).
        for conversation_id, stored in stored_now.items():
            self._unannounced.append(BusEvent("message", conversation_id=conversation_id, seq=stored[0].seq))
            for listener in self._stored_listeners:
                try:
                    listener(conversations[conversation_id], stored)
                except Exception:
                    log.warning("stored-message listener failed", exc_info=True)
        return [o for o in outcomes if o is not None]

    def _remember_notify_jobs(
        self, queued: dict[tuple[uuid.UUID, uuid.UUID], int], due: datetime, now: datetime
    ) -> None:
        """A committed unread-notification job covers every later message to that recipient until it runs
        (see notify_unread): sends skip their own job meanwhile. Memory only, per process: a restart or another
        process merely queues one more job, which the throttle makes harmless."""
        if len(self._notify_pending) > 50_000:
            self._notify_pending = {k: v for k, v in self._notify_pending.items() if v > now}
        for recipient in queued:
            self._notify_pending[recipient] = due

    async def _announce_stored(self) -> None:
        """After a batch's senders are answered: ring the bus once per conversation the batch wrote to. Awaited
        before the next batch begins: ringing from a separate task measured slower (smaller batches, more CPU per
        message; bench/README.md)."""
        events, self._unannounced = self._unannounced, []
        if events and self._bus is not None:
            try:
                await self._bus.publish_many(events)
            except Exception:
                log.warning("bus publish failed after commit", exc_info=True)

    async def messages(
        self, principal: Principal, conversation_id: uuid.UUID, after_seq: int, limit: int, *, audit: bool = True
    ) -> list[Message]:
        """Reads are audited per fetch (REST pages, WebSocket resumes); live pushes of a message the reader
        subscribed to are not re-audited one by one. At most MAX_PAGE + 1 messages: a caller that pages asks for
        one more than its page to learn whether another follows."""
        limit = max(1, min(limit, MAX_PAGE + 1))
        async with self._uow() as uow:
            conversation = await self._visible(uow, principal, conversation_id)
            stored = await uow.conversations.messages_after(conversation.id, max(0, after_seq), limit)
            result = [await self._open(uow, conversation, s) for s in stored]
            if audit:
                await uow.audit.append(
                    self._event(principal, "message.read", conversation.id, object_type="conversation")
                )
                await uow.commit()
        return result

    async def mark_read(self, principal: Principal, conversation_id: uuid.UUID, seq: int) -> int:
        async with self._uow() as uow:
            conversation = await self._visible(uow, principal, conversation_id)
            cursor = await uow.conversations.mark_read(
                conversation.id, principal.user_id, min(seq, conversation.last_seq), self._clock.now()
            )
            await uow.commit()
        await self._publish(BusEvent("read", conversation_id=conversation_id, seq=cursor, user_id=principal.user_id))
        return cursor

    async def typing(self, principal: Principal, conversation_id: uuid.UUID) -> None:
        async with self._uow() as uow:
            await self._visible(uow, principal, conversation_id)
        await self._publish(BusEvent("typing", conversation_id=conversation_id, user_id=principal.user_id))

    async def notify_unread(self, conversation_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> bool:
        """The unread-message job: an email without any content once a message to the participant has been
        unread for `notify_after`, at most one per conversation per `notify_throttle`.

        One job stands for every message that arrives while it is pending (sends skip the enqueue then, see
        `_remember_notify_jobs`), so it looks at the oldest unread message rather than at the one that queued it
        (`seq`): if that one is younger than `notify_after`, the job is queued again for when it is due; if
        the throttle holds, it is queued again for the first unread message whose own job would have passed
        the throttle. That is exactly the emails one job per message would send. The conversation row lock
        (which every send takes) orders this read against sends that skipped the enqueue."""
        now = self._clock.now()
        async with self._uow() as uow:
            conversation = await uow.conversations.get(conversation_id, for_update=True)
            user = await uow.users.get(user_id)
            if conversation is None or user is None or not conversation.has(user_id):
                return False
            cursor = await uow.conversations.read_cursor(conversation_id, user_id)
            oldest = await uow.conversations.first_unread(conversation_id, user_id, cursor)
            if oldest is None:
                return False
            if oldest[1] + self._notify_after > now:
                await self._notify_later(uow, conversation_id, user_id, oldest)
                await uow.commit()
                return False
            previous = await uow.conversations.notified_at(conversation_id, user_id)
            if not await uow.conversations.claim_notification(conversation_id, user_id, now, self._notify_throttle):
                last = previous  # a refused claim changed nothing (and the conversation's lock is held)
                if last is not None:
                    later = await uow.conversations.first_unread(
                        conversation_id, user_id, cursor, last + self._notify_throttle - self._notify_after
                    )
                    if later is not None:
                        await self._notify_later(uow, conversation_id, user_id, later)
                        await uow.commit()
                return False
            await uow.commit()
        if self._email is not None:
            area = "client" if user_id == conversation.client_id else "therapist"
            try:
                await self._email.send(
                    EmailMessage(
                        to=user.email,
                        subject="You have a new message on Hearth",
                        text="You have a new message on Hearth. "
                        f"Read it in the app: {self._base_url}/{area}/messages\n",
                    )
                )
            except BaseException:
                # Not sent: give the claim back, or the job's retry would find the throttle taken by an email
                # that never left and end without one. (A worker that dies right here still loses it: sending
                # twice would be the other way to fail.)
                async with self._uow() as uow:
                    await uow.conversations.release_notification(conversation_id, user_id, now, previous)
                    await uow.commit()
                raise
        return True

    async def _notify_later(
        self, uow: MessagingUnitOfWork, conversation_id: uuid.UUID, user_id: uuid.UUID, message: tuple[int, datetime]
    ) -> None:
        due = max(message[1] + self._notify_after, self._clock.now())
        await uow.jobs.enqueue(
            NOTIFY_UNREAD_JOB,
            {"conversation_id": str(conversation_id), "user_id": str(user_id), "seq": str(message[0])},
            due,
        )

    async def set_away(self, principal: Principal, away: bool) -> bool:
        async with self._uow() as uow:
            await uow.conversations.set_away(principal.user_id, away, self._clock.now())
            await uow.commit()
        return away

    async def is_away(self, principal: Principal) -> bool:
        async with self._uow() as uow:
            return await uow.conversations.away_since(principal.user_id) is not None

    async def welcome_template(self, principal: Principal) -> str:
        async with self._uow() as uow:
            return await uow.conversations.welcome_template(principal.user_id) or DEFAULT_WELCOME

    async def set_welcome_template(self, principal: Principal, template: str) -> str:
        if not template.strip() or len(template) > 4000:
            raise ValidationFailed(
                "The welcome message is 1 to 4000 characters.", code="invalid_template", field="template"
            )
        async with self._uow() as uow:
            await uow.conversations.set_welcome_template(principal.user_id, template, self._clock.now())
            await uow.commit()
        return template

    # ------------------------------------------------------------------------------ internals

    async def _visible(
        self, uow: MessagingUnitOfWork, principal: Principal, conversation_id: uuid.UUID, *, for_update: bool = False
    ) -> Conversation:
        conversation = await uow.conversations.get(conversation_id, for_update=for_update)
        if conversation is None or not conversation.has(principal.user_id):
            raise NotFound("No such conversation.")
        return conversation

    async def _append(
        self,
        uow: MessagingUnitOfWork,
        conversation: Conversation,
        sender_id: uuid.UUID,
        client_message_id: str,
        kind: MessageKind,
        body: str,
    ) -> tuple[Message, Conversation]:
        """One message outside a send batch (the welcome), stored at once."""
        rows: list[StoredMessage] = []
        key = await data_key(uow, conversation.data_key_id)
        message, conversation = self._seal_next(
            conversation, key, sender_id, client_message_id, kind, body, self._clock.now(), rows
        )
        await uow.conversations.store(rows, [conversation])
        return message, conversation

    def _seal_next(
        self,
        conversation: Conversation,
        key: WrappedDataKey,
        sender_id: uuid.UUID,
        client_message_id: str,
        kind: MessageKind,
        body: str,
        now: datetime,
        rows: list[StoredMessage],
    ) -> tuple[Message, Conversation]:
        """The conversation's next message, sealed and added to `rows` (stored by the caller)."""
        seq = conversation.last_seq + 1
        message_id = self._ids.new()
        sealed = self._cipher.seal(
            json.dumps({"v": 1, "text": body}), key, _aad(conversation.id, message_id, sender_id)
        )
        rows.append(StoredMessage(message_id, conversation.id, seq, sender_id, client_message_id, kind, sealed, now))
        message = Message(message_id, conversation.id, seq, sender_id, client_message_id, kind, body, now)
        return message, replace(conversation, last_seq=seq, last_message_at=now)

    def _open_with(self, key: WrappedDataKey, conversation: Conversation, stored: StoredMessage) -> Message:
        doc = json.loads(self._cipher.open(stored.body, key, _aad(conversation.id, stored.id, stored.sender_id)))
        return Message(
            stored.id,
            stored.conversation_id,
            stored.seq,
            stored.sender_id,
            stored.client_message_id,
            stored.kind,
            str(doc["text"]),
            stored.created_at,
        )

    async def _reply_text(
        self,
        uow: MessagingUnitOfWork,
        conversation: Conversation,
        sender_id: uuid.UUID,
        presence: Presence | None,
        now: datetime,
    ) -> str | None:
        """The automatic reply a client's message gets outside the therapist's messaging hours: one per
        conversation per off-period (None: no reply)."""
        if sender_id != conversation.client_id or presence is None:
            return None
        hours = presence.hours
        next_open = None
        if presence.away_since is not None:
            off_since = presence.away_since  # away is one off-period, from when it was switched on
        elif hours is not None and hours.messaging_hours is not None:
            messaging = OfficeHours(timezone=hours.timezone, weekly=hours.messaging_hours)
            spans = working_intervals(messaging, now - timedelta(days=8), now + timedelta(days=8))
            if any(iv.start <= now < iv.end for iv in spans):
                return None
            off_since = max((iv.end for iv in spans if iv.end <= now), default=now - timedelta(days=8))
            next_open = min((iv.start for iv in spans if iv.start > now), default=None)
        else:
            return None
        if conversation.auto_replied_at is not None and conversation.auto_replied_at >= off_since:
            return None
        client = await uow.users.get(conversation.client_id)
        zone = client.timezone if client else (hours.timezone if hours else "UTC")
        when = f"on {format_local(next_open, zone)}" if next_open else "as soon as I am back"
        return AUTO_REPLY.replace("{when}", when)

    async def _open(self, uow: MessagingUnitOfWork, conversation: Conversation, stored: StoredMessage) -> Message:
        return self._open_with(await data_key(uow, conversation.data_key_id), conversation, stored)

    async def _publish_many(self, events: list[BusEvent]) -> None:
        if self._bus is not None:
            try:
                await self._bus.publish_many(events)
            except Exception:
                log.warning("bus publish failed after commit", exc_info=True)

    async def _publish(self, event: BusEvent) -> None:
        # After the commit the message is safe; a bus that cannot ring must not turn that into a failure
        # (receivers catch up on resume and after the bus reconnects).
        if self._bus is not None:
            try:
                await self._bus.publish(event)
            except Exception:
                log.warning("bus publish failed after commit", exc_info=True)

    def _event(
        self, principal: Principal, action: str, object_id: uuid.UUID, *, object_type: str = "message"
    ) -> AuditEvent:
        return event_by(principal, action, object_type, object_id, self._clock.now())
