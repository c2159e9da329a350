"""The SQLAlchemy unit of work: one AsyncSession, one transaction, rollback unless committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.audit.events import AuditLog
from domain.billing.storage import (
    BillingSettingsRepository,
    ChargeRepository,
    ClaimRecordRepository,
    InvoiceRepository,
    PaymentProfileRepository,
    PlatformFeeRepository,
    PolicyRepository,
)
from domain.identity.ports import (
    InvitationRepository,
    PracticeRepository,
    SessionRepository,
    StaffRepository,
    ThrottleRepository,
    UserRepository,
)
from domain.identity.tickets import TicketRepository
from domain.matching.ports import MatchingRepository
from domain.measures.ports import MeasuresRepository, PracticeSettingsRepository
from domain.messaging.ports import ConversationRepository
from domain.notes.ports import NoteRepository, PsychotherapyRepository
from domain.plans.ports import PlanRepository
from domain.scheduling.ports import (
    AcceptedPolicies,
    AppointmentRepository,
    CalendarFeedRepository,
    CareRepository,
    OfficeHoursRepository,
    ProfileRepository,
    ReminderRepository,
    SeriesRepository,
    WaitlistRepository,
)
from domain.sessions.ports import LiveSessionRepository
from domain.shared.data_keys import DataKeyRepository
from domain.shared.jobs import JobScheduler
from domain.shared.records import ClientRecordRepository
from domain.telephony.ports import PhoneCallRepository
from infra.db import fast
from infra.db.repositories.audit import SqlAuditLog
from infra.db.repositories.billing import (
    SqlBillingSettingsRepository,
    SqlChargeRepository,
    SqlClaimRecordRepository,
    SqlInvoiceRepository,
    SqlPaymentProfileRepository,
    SqlPlatformFeeRepository,
    SqlPolicyRepository,
)
from infra.db.repositories.clinical import (
    SqlClientRecordRepository,
    SqlMeasuresRepository,
    SqlNoteRepository,
    SqlPlanRepository,
    SqlPracticeSettingsRepository,
    SqlPsychotherapyRepository,
)
from infra.db.repositories.data_keys import SqlDataKeyRepository
from infra.db.repositories.identity import (
    SqlInvitationRepository,
    SqlPracticeRepository,
    SqlSessionRepository,
    SqlStaffRepository,
    SqlThrottleRepository,
    SqlTicketRepository,
    SqlUserRepository,
)
from infra.db.repositories.matching import SqlMatchingRepository
from infra.db.repositories.messaging import SqlConversationRepository
from infra.db.repositories.scheduling import (
    SqlAppointmentRepository,
    SqlCalendarFeedRepository,
    SqlCareRepository,
    SqlOfficeHoursRepository,
    SqlProfileRepository,
    SqlReminderRepository,
    SqlSeriesRepository,
    SqlWaitlistRepository,
)
from infra.db.repositories.sessions import SqlLiveSessionRepository
from infra.db.repositories.telephony import SqlPhoneCallRepository
from infra.jobs.queue import JobQueue
from infra.jobs.transactional import TransactionalJobs

log = structlog.get_logger("hearth.db")


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], queue: JobQueue | None = None) -> None:
        self._sessions = sessions
        self._queue = queue
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], Awaitable[None]]] = []

    async def __aenter__(self) -> Self:
        self._session = session = self._sessions()
        self._after_commit = []
        # Typed as the domain ports so this class satisfies every area's UnitOfWork protocol.
        self.users: UserRepository = SqlUserRepository(session)
        self.practices: PracticeRepository = SqlPracticeRepository(session)
        self.invitations: InvitationRepository = SqlInvitationRepository(session)
        self.sessions: SessionRepository = SqlSessionRepository(session)
        self.staff: StaffRepository = SqlStaffRepository(session)
        self.throttle: ThrottleRepository = SqlThrottleRepository(session)
        self.audit: AuditLog = SqlAuditLog(session)
        self.profiles: ProfileRepository = SqlProfileRepository(session)
        self.office_hours: OfficeHoursRepository = SqlOfficeHoursRepository(session)
        self.appointments: AppointmentRepository = SqlAppointmentRepository(session)
        self.series: SeriesRepository = SqlSeriesRepository(session)
        self.care: CareRepository = SqlCareRepository(session)
        self.waitlist: WaitlistRepository = SqlWaitlistRepository(session)
        self.reminders: ReminderRepository = SqlReminderRepository(session)
        self.calendar_feeds: CalendarFeedRepository = SqlCalendarFeedRepository(session)
        self.data_keys: DataKeyRepository = SqlDataKeyRepository(session)
        self.client_records: ClientRecordRepository = SqlClientRecordRepository(session)
        self.measures: MeasuresRepository = SqlMeasuresRepository(session)
        self.practice_settings: PracticeSettingsRepository = SqlPracticeSettingsRepository(session)
        self.plans: PlanRepository = SqlPlanRepository(session)
        self.notes: NoteRepository = SqlNoteRepository(session)
        self.psychotherapy_notes: PsychotherapyRepository = SqlPsychotherapyRepository(session)
        self.conversations: ConversationRepository = SqlConversationRepository(session)
        self.tickets: TicketRepository = SqlTicketRepository(session)
        self.phone_calls: PhoneCallRepository = SqlPhoneCallRepository(session)
        self.matching: MatchingRepository = SqlMatchingRepository(session)
        policies = SqlPolicyRepository(session)
        self.cancellation_policies: PolicyRepository = policies
        self.accepted_policies: AcceptedPolicies = policies
        self.billing_settings: BillingSettingsRepository = SqlBillingSettingsRepository(session)
        self.claim_records: ClaimRecordRepository = SqlClaimRecordRepository(session)
        self.charges: ChargeRepository = SqlChargeRepository(session)
        self.invoices: InvoiceRepository = SqlInvoiceRepository(session)
        self.platform_fees: PlatformFeeRepository = SqlPlatformFeeRepository(session)
        self.payment_profiles: PaymentProfileRepository = SqlPaymentProfileRepository(session)
        self.live_sessions: LiveSessionRepository = SqlLiveSessionRepository(session)
        if self._queue is not None:
            self.jobs: JobScheduler = TransactionalJobs(self._queue, session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        assert session is not None
        # After a commit the session holds no transaction and has given its connection back: rollback() and
        # close() would only spawn two greenlets (~50 us) to do nothing, on every request.
        if not session.in_transaction():
            return
        try:
            await session.rollback()
        finally:
            await session.close()

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "use the unit of work inside `async with`"
        return self._session

    async def commit(self) -> None:
        await self.session.commit()
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                await action()
            except Exception:  # committed: what follows the commit must not turn it into a failure
                log.warning("after-commit action failed", exc_info=True)

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(action)

    def without_snapshot(self) -> None:
        fast.read_without_transaction(self.session)

    async def rollback(self) -> None:
        self._after_commit = []
        await self.session.rollback()
