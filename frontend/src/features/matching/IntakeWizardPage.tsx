import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { SelectField } from '../../components/SelectField';
import { TextField } from '../../components/TextField';
import { useMe } from '../auth/useAuth';
import { GENDER, MODALITY, PRIOR_THERAPY, STEPS, WEEKDAYS } from './labels';
import { fetchIntake, saveIntakeDraft, submitIntake } from './matchingApi';
import type { DraftAnswers, IntakeAnswers } from './types';

export const intakeKey = ['matching', 'intake'] as const;

type PaymentKind = 'none' | 'budget' | 'insurance';

function toggle<T>(list: T[] | null | undefined, value: T, on: boolean): T[] {
  const rest = (list ?? []).filter((item) => item !== value);
  return on ? [...rest, value] : rest;
}

function Checkboxes({ legend, options, values, onChange, id, error }: {
  legend: string;
  options: { value: string; label: string }[];
  values: string[];
  onChange: (values: string[]) => void;
  /** Given to the first box, so an error can move focus to the question. */
  id?: string;
  error?: string;
}) {
  const errorId = error && id ? `${id}-error` : undefined;
  return (
    <fieldset aria-describedby={errorId} aria-invalid={error ? true : undefined}>
      <legend>{legend}</legend>
      {options.map((option, index) => (
        <label key={option.value} className="checkbox">
          <input
            id={index === 0 ? id : undefined}
            type="checkbox"
            checked={values.includes(option.value)}
            onChange={(event) => onChange(toggle(values, option.value, event.target.checked))}
          />{' '}
          {option.label}
        </label>
      ))}
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The step each answer is asked on, so an answer the server refuses takes the client back to its question. */
const STEP_OF: Record<string, number> = {
  concerns: 0,
  prior_therapy: 0,
  modalities: 1,
  session_minutes: 1,
  language: 1,
  therapist_gender: 1,
  faith_based: 1,
  lgbtq_affirming: 1,
  days: 2,
  times: 2,
  timezone: 2,
  residence: 3,
  payment: 3,
  consent_to_match: 4,
};

/** Our own words for a refused answer: the server's are written for developers (field names, validator terms). */
const HUMAN: Record<string, string> = {
  concerns: 'Choose at least one thing you would like help with.',
  residence: 'Enter where you live as a code such as "US-OH" or "GB".',
  language: 'Enter a language tag such as "en" or "es".',
  timezone: 'Enter a time zone such as "America/New_York".',
  times: 'Check the times: "From" must be before "Until".',
  modalities: 'Choose at least one way to meet.',
  payment: 'Check how you will pay.',
  consent_to_match: 'Tick the box to agree to be matched before sending.',
};

/** Each question as the client sees it, to say in the alert which ones need another look. */
const QUESTION: Record<string, string> = {
  concerns: 'What would you like help with?',
  prior_therapy: 'Have you had therapy before?',
  modalities: 'Ways to meet',
  session_minutes: 'Session length',
  language: 'Language',
  therapist_gender: 'Therapist gender',
  faith_based: 'Faith-based approach',
  lgbtq_affirming: 'LGBTQ+-affirming therapist',
  days: 'Days that suit you',
  times: 'Times that suit you',
  timezone: 'Your time zone',
  residence: 'Where you live',
  payment: 'How you will pay',
  consent_to_match: 'Agreement to be matched',
};

function summary(problems: Problems): string {
  const questions = Object.keys(problems)
    .sort((a, b) => (STEP_OF[a] ?? 0) - (STEP_OF[b] ?? 0))
    .map((field) => `${QUESTION[field] ?? field} (step ${(STEP_OF[field] ?? 0) + 1})`);
  return `Please check ${questions.length > 1 ? 'these answers' : 'this answer'}: ${questions.join('; ')}.`;
}

/** Where focus goes for each question that can be refused. */
const FIELD_ID: Record<string, string> = { concerns: 'intake-concerns', residence: 'intake-residence' };

type Problems = Record<string, string>;

/** The required answers missing on `step`: the server refuses an intake without them, so the step cannot be left. */
function missingOn(step: number, answers: DraftAnswers): Problems {
  if (step === 0 && (answers.concerns ?? []).length === 0) return { concerns: HUMAN.concerns! };
  if (step === 3 && (answers.residence ?? '').trim().length < 2) return { residence: HUMAN.residence! };
  return {};
}

/** A refused intake as problems per field in our words, or null when the error is not about the answers. */
function problemsFrom(error: unknown): Problems | null {
  if (!(error instanceof ApiError) || error.fieldProblems.length === 0) return null;
  const problems: Problems = {};
  for (const { field } of error.fieldProblems) {
    if (field in STEP_OF) problems[field] ??= HUMAN[field] ?? 'Check this answer.';
  }
  return Object.keys(problems).length > 0 ? problems : null;
}

function firstStepOf(problems: Problems): number {
  return Math.min(...Object.keys(problems).map((field) => STEP_OF[field] ?? 0));
}

/** The whole answer the server validates, from a draft: defaults where the client left a question open. */
function complete(answers: DraftAnswers, zone: string): IntakeAnswers {
  return {
    concerns: (answers.concerns ?? []) as IntakeAnswers['concerns'],
    prior_therapy: answers.prior_therapy ?? 'never',
    modalities: (answers.modalities ?? ['video']) as IntakeAnswers['modalities'],
    session_minutes: answers.session_minutes ?? 50,
    language: answers.language ?? 'en',
    residence: answers.residence ?? '',
    timezone: answers.timezone ?? zone,
    consent_to_match: answers.consent_to_match ?? false,
    therapist_gender: answers.therapist_gender ?? 'no_preference',
    faith_based: answers.faith_based ?? false,
    lgbtq_affirming: answers.lgbtq_affirming ?? false,
    days: [...(answers.days ?? [])].sort((a, b) => a - b),
    times: answers.times ?? [],
    payment: answers.payment ?? null,
  };
}

/** The intake questionnaire, one step at a time; every step is saved as a draft, so a client can leave and resume. */
export function IntakeWizardPage() {
  const me = useMe().data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const intake = useQuery({ queryKey: intakeKey, queryFn: fetchIntake });
  const [answers, setAnswers] = useState<DraftAnswers>({});
  const [step, setStep] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [saved, setSaved] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  // Focus the first refused question once its step is on screen.
  const [focusField, setFocusField] = useState<string | null>(null);
  useEffect(() => {
    if (!focusField) return;
    document.getElementById(FIELD_ID[focusField] ?? '')?.focus();
    setFocusField(null);
  }, [focusField, step]);

  const showProblems = (found: Problems, at: number) => {
    setProblems(found);
    setStep(at);
    setFocusField(Object.keys(found).find((field) => STEP_OF[field] === at) ?? null);
  };

  useEffect(() => {
    if (intake.data && !loaded) {
      setAnswers(intake.data.draft ?? { timezone: zone, language: 'en' });
      setStep(Math.min(intake.data.step, STEPS.length - 1));
      setLoaded(true);
    }
  }, [intake.data, loaded, zone]);

  const save = useMutation({
    mutationFn: ({ to }: { to: number; message?: string }) => saveIntakeDraft(to, answers),
    onSuccess: (_, { to, message }) => {
      setStep(to);
      setSaved(message ?? '');
      void queryClient.invalidateQueries({ queryKey: intakeKey });
    },
    onError: (error) => {
      const found = problemsFrom(error);
      if (found) showProblems(found, firstStepOf(found));
    },
  });
  const submit = useMutation({
    mutationFn: () => submitIntake(complete(answers, zone)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: intakeKey });
      void navigate('/client/match');
    },
    onError: (error) => {
      const found = problemsFrom(error);
      if (found) showProblems(found, firstStepOf(found));
    },
  });

  if (!intake.data || !loaded) return <QueryState isPending={intake.isPending} error={intake.error} what="your intake" />;
  const questionnaire = intake.data.questionnaire;
  const set = (patch: Partial<DraftAnswers>) => {
    setAnswers((current) => ({ ...current, ...patch }));
    // An answered question is no longer refused.
    setProblems((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !(field in patch))));
  };
  const payment = answers.payment;
  const paymentKind: PaymentKind = payment ? payment.kind : 'none';
  const window = answers.times?.[0];

  const pages: ReactNode[] = [
    <>
      <Checkboxes
        legend="What would you like help with? (required)"
        id={FIELD_ID.concerns}
        error={problems.concerns}
        options={questionnaire.concerns}
        values={answers.concerns ?? []}
        onChange={(values) => set({ concerns: values as DraftAnswers['concerns'] })}
      />
      <SelectField
        label="Have you had therapy before?"
        name="prior_therapy"
        value={answers.prior_therapy ?? 'never'}
        onChange={(event) => set({ prior_therapy: event.target.value as IntakeAnswers['prior_therapy'] })}
        options={questionnaire.prior_therapy.map((value) => ({ value, label: PRIOR_THERAPY[value] ?? value }))}
      />
    </>,
    <>
      <Checkboxes
        legend="Ways to meet"
        options={questionnaire.modalities.map((value) => ({ value, label: MODALITY[value] ?? value }))}
        values={answers.modalities ?? ['video']}
        onChange={(values) => set({ modalities: values as DraftAnswers['modalities'] })}
      />
      <SelectField
        label="Session length"
        name="session_minutes"
        value={String(answers.session_minutes ?? 50)}
        onChange={(event) => set({ session_minutes: Number(event.target.value) })}
        options={[30, 45, 50, 60].map((m) => ({ value: String(m), label: `${m} minutes` }))}
      />
      <TextField
        label="Language"
        name="language"
        hint='A language tag such as "en" or "es"'
        value={answers.language ?? ''}
        onChange={(event) => set({ language: event.target.value })}
      />
      <SelectField
        label="Therapist gender"
        name="therapist_gender"
        value={answers.therapist_gender ?? 'no_preference'}
        onChange={(event) => set({ therapist_gender: event.target.value as IntakeAnswers['therapist_gender'] })}
        options={questionnaire.therapist_gender.map((value) => ({ value, label: GENDER[value] ?? value }))}
      />
      <label className="checkbox">
        <input
          type="checkbox"
          checked={answers.faith_based ?? false}
          onChange={(event) => set({ faith_based: event.target.checked })}
        />{' '}
        I would like a faith-based approach
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={answers.lgbtq_affirming ?? false}
          onChange={(event) => set({ lgbtq_affirming: event.target.checked })}
        />{' '}
        I would like an LGBTQ+-affirming therapist
      </label>
    </>,
    <>
      <Checkboxes
        legend="Days that suit you (none: any day)"
        options={WEEKDAYS.map((label, index) => ({ value: String(index + 1), label }))}
        values={(answers.days ?? []).map(String)}
        onChange={(values) => set({ days: values.map(Number).sort((a, b) => a - b) })}
      />
      <TextField
        label="From"
        name="times_start"
        type="time"
        hint="Leave both empty for any time of day"
        value={window?.start ?? ''}
        onChange={(event) =>
          set({ times: event.target.value ? [{ start: event.target.value, end: window?.end ?? '24:00' }] : [] })
        }
      />
      <TextField
        label="Until"
        name="times_end"
        type="time"
        value={window?.end === '24:00' ? '' : (window?.end ?? '')}
        onChange={(event) =>
          set({ times: [{ start: window?.start ?? '00:00', end: event.target.value || '24:00' }] })
        }
      />
      <TextField
        label="Your time zone"
        name="timezone"
        value={answers.timezone ?? zone}
        onChange={(event) => set({ timezone: event.target.value })}
      />
    </>,
    <>
      <TextField
        label="Where you live (required)"
        id={FIELD_ID.residence}
        aria-required="true"
        error={problems.residence}
        name="residence"
        hint='A code such as "US-OH" (a US state) or "GB" (a country): therapists must be licensed there'
        value={answers.residence ?? ''}
        onChange={(event) => set({ residence: event.target.value.toUpperCase() })}
      />
      <SelectField
        label="How you will pay"
        name="payment"
        value={paymentKind}
        onChange={(event) => {
          const kind = event.target.value as PaymentKind;
          set({
            payment:
              kind === 'budget'
                ? { kind: 'budget', max_amount_minor: 15000, currency: 'USD' }
                : kind === 'insurance'
                  ? { kind: 'insurance', payer: '' }
                  : null,
          });
        }}
        options={[
          { value: 'none', label: 'No constraint' },
          { value: 'budget', label: 'A budget per session' },
          { value: 'insurance', label: 'Insurance' },
        ]}
      />
      {payment?.kind === 'budget' && (
        <TextField
          label="Most you pay per session (USD)"
          name="budget"
          type="number"
          min={0}
          value={String(payment.max_amount_minor / 100)}
          onChange={(event) =>
            set({ payment: { ...payment, max_amount_minor: Math.round(Number(event.target.value) * 100) } })
          }
        />
      )}
      {payment?.kind === 'insurance' && (
        <TextField
          label="Your insurer"
          name="payer"
          value={payment.payer}
          onChange={(event) => set({ payment: { ...payment, payer: event.target.value } })}
        />
      )}
    </>,
    <>
      <p>
        We use your answers only to suggest therapists who are licensed where you live, have room, and fit your needs.
        They are stored encrypted.
      </p>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={answers.consent_to_match ?? false}
          onChange={(event) => set({ consent_to_match: event.target.checked })}
        />{' '}
        I agree to be matched with a therapist using these answers
      </label>
    </>,
  ];
  const last = step === STEPS.length - 1;
  return (
    <>
      <title>Intake · Hearth</title>
      <h1>Get matched with a therapist</h1>
      {intake.data.submitted_at && <p>You already sent an intake; sending again replaces it for new matches.</p>}
      <p id="intake-progress-label">
        Step {step + 1} of {STEPS.length}: {STEPS[step]}
      </p>
      <progress aria-labelledby="intake-progress-label" value={step + 1} max={STEPS.length} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          // Sending checks every step (a draft may have skipped one); moving on checks only this one.
          const checked = last ? [0, 1, 2, 3, 4] : [step];
          const found = Object.assign({}, ...checked.map((s) => missingOn(s, answers))) as Problems;
          if (Object.keys(found).length > 0) return showProblems(found, firstStepOf(found));
          setProblems({});
          if (last) submit.mutate();
          else save.mutate({ to: step + 1 });
        }}
      >
        <h2>{STEPS[step]}</h2>
        {pages[step]}
        <div className="actions">
          {step > 0 && (
            <button type="button" onClick={() => save.mutate({ to: step - 1 })}>
              Back
            </button>
          )}
          <button type="submit" disabled={save.isPending || submit.isPending}>
            {last ? 'Send my answers' : 'Next'}
          </button>
          <button
            type="button"
            onClick={() => save.mutate({ to: step, message: 'Saved. You can come back and finish any time.' })}
          >
            Save and finish later
          </button>
        </div>
      </form>
      <p role="status">{saved}</p>
      <ErrorAlert
        error={
          Object.keys(problems).length > 0
            ? new Error(summary(problems))
            : [save.error, submit.error].find((error) => error && !problemsFrom(error))
        }
      />
    </>
  );
}
