import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
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

function Checkboxes({ legend, options, values, onChange }: {
  legend: string;
  options: { value: string; label: string }[];
  values: string[];
  onChange: (values: string[]) => void;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className="checkbox">
          <input
            type="checkbox"
            checked={values.includes(option.value)}
            onChange={(event) => onChange(toggle(values, option.value, event.target.checked))}
          />{' '}
          {option.label}
        </label>
      ))}
    </fieldset>
  );
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
  });
  const submit = useMutation({
    mutationFn: () => submitIntake(complete(answers, zone)),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: intakeKey });
      void navigate('/client/match');
    },
  });

  if (!intake.data || !loaded) return <QueryState isPending={intake.isPending} error={intake.error} what="your intake" />;
  const questionnaire = intake.data.questionnaire;
  const set = (patch: Partial<DraftAnswers>) => setAnswers((current) => ({ ...current, ...patch }));
  const payment = answers.payment;
  const paymentKind: PaymentKind = payment ? payment.kind : 'none';
  const window = answers.times?.[0];

  const pages: ReactNode[] = [
    <>
      <Checkboxes
        legend="What would you like help with?"
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
        label="Where you live"
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
      <ErrorAlert error={save.error ?? submit.error} />
    </>
  );
}
