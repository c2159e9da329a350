import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { useMe } from '../auth/useAuth';
import { instrumentName } from '../plans/labels';
import { CrisisResourceList } from './CrisisResources';
import { DIFFICULTY_OPTIONS, severityLabel } from './labels';
import { useAssignments, useInstruments, useSubmitResponse } from './queries';
import type { Instrument, Submitted } from './types';

/** One questionnaire for the client: every item is a required radio group; the score shows after sending. */
export function QuestionnaireFormPage() {
  const { assignmentId } = useParams();
  const me = useMe().data;
  const assignments = useAssignments(me?.id);
  const instruments = useInstruments();
  const assignment = assignments.data?.find((a) => a.id === assignmentId);
  const instrument = instruments.data?.find((i) => i.code === assignment?.instrument);
  const name = assignment ? instrumentName(assignment.instrument) : 'Questionnaire';
  return (
    <>
      <title>{`${name} · Hearth`}</title>
      <p>
        <Link to="/client/questionnaires">Back to questionnaires</Link>
      </p>
      <h1>{name}</h1>
      <QueryState
        isPending={assignments.isPending || instruments.isPending}
        error={assignments.error ?? instruments.error}
        what="the questionnaire"
      />
      {assignments.data && instruments.data && (!assignment || !instrument) && (
        <p>This questionnaire is not open for you. It may have been stopped by your therapist.</p>
      )}
      {me && assignment && instrument && (
        <QuestionnaireForm clientId={me.id} assignmentId={assignment.id} instrument={instrument} />
      )}
    </>
  );
}

function QuestionnaireForm({ clientId, assignmentId, instrument }: { clientId: string; assignmentId: string; instrument: Instrument }) {
  const [answers, setAnswers] = useState<Record<string, number>>({});
  const [difficulty, setDifficulty] = useState<number | null>(null);
  const [missing, setMissing] = useState<string[]>([]);
  const [result, setResult] = useState<Submitted | null>(null);
  const submit = useSubmitResponse(clientId);
  const summary = useRef<HTMLDivElement>(null);
  const crisisHeading = useRef<HTMLHeadingElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const crisis = result?.crisis_resources ?? [];

  useEffect(() => {
    if (!result) return;
    (result.crisis_resources.length > 0 ? crisisHeading : resultHeading).current?.focus();
  }, [result]);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const unanswered = instrument.items.filter((item) => answers[item.key] === undefined).map((item) => item.key);
    setMissing(unanswered);
    if (unanswered.length > 0) {
      // Let the summary render with its links, then take the keyboard there.
      requestAnimationFrame(() => summary.current?.focus());
      return;
    }
    submit.mutate(
      { assignmentId, body: { answers, ...(difficulty !== null && { difficulty }) } },
      { onSuccess: (submitted) => setResult(submitted) },
    );
  }

  const numberOf = (key: string) => instrument.items.find((i) => i.key === key)?.number ?? key;

  return (
    <>
      {/* Mounted from the start so screen readers announce what appears in it. */}
      <div className="crisis" role="alert" aria-live="assertive">
        {crisis.length > 0 && (
          <>
            <h2 ref={crisisHeading} tabIndex={-1}>
              You don&rsquo;t have to go through this alone
            </h2>
            <p>
              You told us you have had thoughts of being better off dead or of hurting yourself. Please reach out
              now — these services are free, confidential and open day and night. We have also let your therapist
              know.
            </p>
            <CrisisResourceList resources={crisis} />
          </>
        )}
      </div>

      <StatusMessage className="success">
        {result && (
          <>
            <h2 ref={resultHeading} tabIndex={-1}>
              Your result
            </h2>
            <p>
              Your {instrument.name} score: <strong>{result.total}</strong> of {result.max_total} (
              {result.severity_label || severityLabel(result.severity)}).
            </p>
          </>
        )}
      </StatusMessage>

      {result ? (
        <p className="actions">
          <Link to="/client/scores">See all my scores</Link>
          <Link to="/client/questionnaires">Back to questionnaires</Link>
        </p>
      ) : (
        <form onSubmit={onSubmit} noValidate aria-label={instrument.title} className="questionnaire">
          <p>{instrument.stem}</p>
          <p className="hint">Every question needs an answer.</p>
          <div className="alert" role="alert" ref={summary} tabIndex={-1}>
            {missing.length > 0 && (
              <>
                <p>
                  Please answer {missing.length === 1 ? 'question' : 'questions'}{' '}
                  {missing.map((key) => numberOf(key)).join(', ')} before sending.
                </p>
                <ul>
                  {missing.map((key) => (
                    <li key={key}>
                      <a
                        href={`#${key}-0`}
                        onClick={(event) => {
                          event.preventDefault();
                          document.getElementById(`${key}-0`)?.focus();
                        }}
                      >
                        Go to question {numberOf(key)}
                      </a>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </div>
          {instrument.items.map((item) => {
            const isMissing = missing.includes(item.key) && answers[item.key] === undefined;
            const errorId = `${item.key}-error`;
            return (
              <fieldset key={item.key} className={`question${isMissing ? ' is-missing' : ''}`}>
                <legend>
                  <span className="question-number">{item.number}.</span> {item.text}
                </legend>
                {isMissing && (
                  <p className="field-error" id={errorId}>
                    Choose an answer to question {item.number}.
                  </p>
                )}
                <div className="options">
                  {instrument.options.map((option) => (
                    <label key={option.value} className="choice">
                      <input
                        type="radio"
                        id={`${item.key}-${option.value}`}
                        name={item.key}
                        value={option.value}
                        required
                        aria-invalid={isMissing || undefined}
                        aria-describedby={isMissing ? errorId : undefined}
                        checked={answers[item.key] === option.value}
                        onChange={() => setAnswers((a) => ({ ...a, [item.key]: option.value }))}
                      />{' '}
                      {option.label}
                    </label>
                  ))}
                </div>
              </fieldset>
            );
          })}
          {instrument.difficulty_question && (
            <fieldset className="question">
              <legend>
                {instrument.difficulty_question} <span className="muted">(optional)</span>
              </legend>
              <div className="options">
                {DIFFICULTY_OPTIONS.map((option) => (
                  <label key={option.value} className="choice">
                    <input
                      type="radio"
                      name="difficulty"
                      value={option.value}
                      checked={difficulty === option.value}
                      onChange={() => setDifficulty(option.value)}
                    />{' '}
                    {option.label}
                  </label>
                ))}
              </div>
            </fieldset>
          )}
          <ErrorAlert error={submit.error} />
          <button type="submit" disabled={submit.isPending}>
            {submit.isPending ? 'Sending…' : 'Send my answers'}
          </button>
        </form>
      )}
    </>
  );
}
