import { Link, useParams, useSearchParams } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { Tabs, type Tab } from '../../components/Tabs';
import { formatDayLong, formatTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { ClaimRecordTab } from '../billing/ClaimRecordTab';
import { MeasuresTab } from '../measures/MeasuresTab';
import { noteEditorPath } from '../notes/NoteEditorPage';
import { PsychotherapyNotesPanel } from '../notes/PsychotherapyNotesPanel';
import { PlanTab } from '../plans/PlanEditor';
import { ProgressTab } from '../plans/ProgressHistory';
import { modalityLabel } from '../scheduling/labels';
import { StatusBadge } from '../scheduling/MyAppointmentsPage';
import { useAppointmentPages, useTherapistZone } from '../scheduling/queries';
import { useClientName } from './clientNames';

const TABS: Tab[] = [
  { id: 'plan', label: 'Plan' },
  { id: 'progress', label: 'Progress' },
  { id: 'measures', label: 'Measures' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'billing', label: 'Billing' },
  // Last: the keyboard's End key reaches the author-only notes (frontend/e2e/clinical.spec.ts relies on it).
  { id: 'private', label: 'Private notes' },
];

/** One client's chart: plan, progress, measures, sessions and notes, one tab each (the tab is in the URL). */
export function ClientChartPage() {
  const { clientId = '' } = useParams();
  const [search, setSearch] = useSearchParams();
  const zone = useTherapistZone();
  const name = useClientName(clientId);
  const tab = TABS.some((t) => t.id === search.get('tab')) ? search.get('tab')! : 'plan';
  return (
    <div className="chart-page">
      <title>{`${name} · Hearth`}</title>
      <p>
        <Link to="/therapist/clients">All clients</Link>
      </p>
      <h1>{name}</h1>
      <Tabs
        label={`Chart of ${name}`}
        tabs={TABS}
        selected={tab}
        onSelect={(id) => setSearch({ tab: id }, { replace: true })}
      >
        <h2>{TABS.find((t) => t.id === tab)!.label}</h2>
        {tab === 'plan' && <PlanTab clientId={clientId} />}
        {tab === 'progress' && <ProgressTab clientId={clientId} />}
        {tab === 'measures' && <MeasuresTab clientId={clientId} zone={zone} />}
        {tab === 'sessions' && <SessionsTab clientId={clientId} zone={zone} />}
        {tab === 'private' && <PsychotherapyNotesPanel clientId={clientId} zone={zone} />}
        {tab === 'billing' && <ClaimRecordTab clientId={clientId} />}
      </Tabs>
    </div>
  );
}

function SessionsTab({ clientId, zone }: { clientId: string; zone: string }) {
  const me = useMe().data;
  // Newest first and a page at a time: a long history must not push the latest sessions past what is loaded.
  const appointments = useAppointmentPages({ clientId, therapistId: me?.id, order: 'newest_first' }, !!me);
  const sessions = appointments.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <QueryState isPending={appointments.isPending} error={appointments.error} what="the sessions" />
      {appointments.data &&
        (sessions.length === 0 ? (
          <p>No sessions.</p>
        ) : (
          <ul className="cards" aria-label="Sessions">
            {sessions.map((a) => (
              <li key={a.id} className="card">
                <h3 className="card-title">
                  <Link to={`/therapist/appointments/${a.id}`}>
                    {formatDayLong(a.start, zone)}, {formatTime(a.start, zone)}
                  </Link>
                </h3>
                <p>
                  {a.duration_minutes} minutes · {modalityLabel(a.modality)} · <StatusBadge status={a.status} />
                </p>
                {a.status === 'completed' && (
                  <p>
                    <Link to={noteEditorPath(a.id)}>
                      Session note<span className="visually-hidden"> of {formatDayLong(a.start, zone)}</span>
                    </Link>
                  </p>
                )}
              </li>
            ))}
          </ul>
        ))}
      {appointments.hasNextPage && (
        <button
          type="button"
          onClick={() => void appointments.fetchNextPage()}
          disabled={appointments.isFetchingNextPage}
        >
          {appointments.isFetchingNextPage ? 'Loading…' : 'Show earlier sessions'}
        </button>
      )}
    </>
  );
}
