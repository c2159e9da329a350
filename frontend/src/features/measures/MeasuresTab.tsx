import { useState, type FormEvent } from 'react';
import { fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { formatDateTime } from '../../lib/time';
import { instrumentName } from '../plans/labels';
import { FLAG_LABELS, FREQUENCIES, INSTRUMENT_CODES, frequencyText, isInstrumentCode, severityLabel } from './labels';
import { useAssignMeasure, useAssignments, useEndAssignment, useInstruments, useScores } from './queries';
import { TrendSection } from './TrendSection';
import type { Assignment, InstrumentCode, MeasureFrequency } from './types';

/** The therapist's measures for one client: send questionnaires, see what is due, read scores and trends. */
export function MeasuresTab({ clientId, zone }: { clientId: string; zone: string }) {
  const scores = useScores(clientId);
  const answered = new Set((scores.data ?? []).map((s) => s.instrument));
  const instruments = INSTRUMENT_CODES.filter((code) => answered.has(code));
  return (
    <>
      <AssignForm clientId={clientId} />
      <Assignments clientId={clientId} zone={zone} />
      <section aria-labelledby="trends-heading">
        <h3 id="trends-heading">Scores over time</h3>
        <QueryState isPending={scores.isPending} error={scores.error} what="the scores" />
        {scores.data && instruments.length === 0 && <p>No answers yet.</p>}
        {instruments.map((code) => (
          <TrendSection key={code} clientId={clientId} instrument={code} zone={zone} headingLevel={4} />
        ))}
      </section>
      {scores.data && scores.data.length > 0 && (
        <section aria-labelledby="answers-heading">
          <h3 id="answers-heading">All answers</h3>
          <div className="table-scroll">
            <table>
              <caption>Every questionnaire the client answered, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Answered</th>
                  <th scope="col">Questionnaire</th>
                  <th scope="col">Total</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Flags</th>
                </tr>
              </thead>
              <tbody>
                {[...scores.data].reverse().map((score) => (
                  <tr key={score.id}>
                    <td>{formatDateTime(score.completed_at, zone)}</td>
                    <td>{instrumentName(score.instrument)}</td>
                    <td>
                      {score.total} of {score.max_total}
                    </td>
                    <td>{score.severity_label || severityLabel(score.severity)}</td>
                    <td>
                      {score.flags.length === 0 ? (
                        <span className="muted">None</span>
                      ) : (
                        <strong className="flag">{score.flags.map((f) => FLAG_LABELS[f] ?? f).join('; ')}</strong>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}

function AssignForm({ clientId }: { clientId: string }) {
  const instruments = useInstruments();
  const assign = useAssignMeasure(clientId);
  const [instrument, setInstrument] = useState<InstrumentCode>('phq9');
  const [frequency, setFrequency] = useState<MeasureFrequency>('once');
  const [intervalDays, setIntervalDays] = useState('14');
  const [leadHours, setLeadHours] = useState('48');
  const [message, setMessage] = useState('');

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setMessage('');
    assign.mutate(
      {
        instrument,
        frequency,
        ...(frequency === 'every_n_days' && { interval_days: Number(intervalDays) }),
        ...(frequency === 'before_every_session' && { lead_hours: Number(leadHours) }),
      },
      {
        onSuccess: (assignment) =>
          setMessage(
            `${instrumentName(assignment.instrument)} assigned ${frequencyText(assignment.frequency, assignment.interval_days, assignment.lead_hours)}.`,
          ),
      },
    );
  }

  const available = (instruments.data ?? []).filter((i) => isInstrumentCode(i.code));
  return (
    <section aria-labelledby="assign-heading">
      <h3 id="assign-heading">Send a questionnaire</h3>
      <QueryState isPending={instruments.isPending} error={instruments.error} what="the questionnaires" />
      {instruments.data && (
        <form onSubmit={onSubmit} aria-labelledby="assign-heading">
          <fieldset>
            <legend>Questionnaire</legend>
            {available.map((i) => (
              <label key={i.code} className="choice">
                <input
                  type="radio"
                  name="instrument"
                  value={i.code}
                  checked={instrument === i.code}
                  onChange={() => setInstrument(i.code as InstrumentCode)}
                />{' '}
                {i.name} <span className="muted">({i.items.length} questions)</span>
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>How often</legend>
            {FREQUENCIES.map((f) => (
              <label key={f.value} className="choice">
                <input
                  type="radio"
                  name="frequency"
                  value={f.value}
                  checked={frequency === f.value}
                  onChange={() => setFrequency(f.value)}
                />{' '}
                {f.label}
              </label>
            ))}
            {frequency === 'every_n_days' && (
              <TextField
                label="Every how many days"
                name="interval_days"
                type="number"
                min={1}
                max={90}
                required
                value={intervalDays}
                onChange={(e) => setIntervalDays(e.target.value)}
                error={fieldMessage(assign.error, 'interval_days')}
              />
            )}
            {frequency === 'before_every_session' && (
              <TextField
                label="Hours before each session"
                name="lead_hours"
                type="number"
                min={1}
                max={168}
                required
                hint="When the client is asked to answer it."
                value={leadHours}
                onChange={(e) => setLeadHours(e.target.value)}
                error={fieldMessage(assign.error, 'lead_hours')}
              />
            )}
          </fieldset>
          <ErrorAlert error={assign.error} />
          <StatusMessage className="success">{message && <p>{message}</p>}</StatusMessage>
          <button type="submit" disabled={assign.isPending}>
            {assign.isPending ? 'Sending…' : 'Send questionnaire'}
          </button>
        </form>
      )}
    </section>
  );
}

function dueText(assignment: Assignment, zone: string): string {
  if (assignment.ended_at) return `Stopped ${formatDateTime(assignment.ended_at, zone)}`;
  if (assignment.due_now) return 'Due now';
  if (assignment.due_at) return `Next due ${formatDateTime(assignment.due_at, zone)}`;
  return assignment.frequency === 'once' ? 'Answered' : 'Nothing pending';
}

function Assignments({ clientId, zone }: { clientId: string; zone: string }) {
  const assignments = useAssignments(clientId);
  const end = useEndAssignment(clientId);
  const [message, setMessage] = useState('');
  const active = (assignments.data ?? []).filter((a) => !a.ended_at);
  return (
    <section aria-labelledby="assigned-heading">
      <h3 id="assigned-heading">Questionnaires sent</h3>
      <QueryState isPending={assignments.isPending} error={assignments.error} what="the questionnaires sent" />
      <ErrorAlert error={end.error} />
      <StatusMessage>{message && <p>{message}</p>}</StatusMessage>
      {assignments.data &&
        (active.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul className="cards" aria-label="Questionnaires sent">
            {active.map((a) => (
              <li key={a.id} className="card">
                <p>
                  <strong>{instrumentName(a.instrument)}</strong>,{' '}
                  {frequencyText(a.frequency, a.interval_days, a.lead_hours)} · {dueText(a, zone)}
                </p>
                {(a.frequency !== 'once' || a.due_at !== null) && (
                  <button
                    type="button"
                    className="secondary"
                    disabled={end.isPending}
                    onClick={() =>
                      end.mutate(a.id, { onSuccess: () => setMessage(`${instrumentName(a.instrument)} will no longer be sent.`) })
                    }
                  >
                    Stop sending<span className="visually-hidden"> {instrumentName(a.instrument)}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}
