import { useState, type FormEvent } from 'react';
import { ApiError, fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { SelectField } from '../../components/SelectField';
import { StatusMessage } from '../../components/StatusMessage';
import { TextArea } from '../../components/TextArea';
import { TextField } from '../../components/TextField';
import { TimeZoneField } from '../../components/TimeZoneField';
import { MODALITIES, SESSION_LENGTHS, minorUnitDigits } from './labels';
import { useMyProfile, useSaveMyProfile } from './queries';
import type { VersionedProfile } from './schedulingApi';
import type { Modality, MyProfile, ProfileInput } from './types';

interface Draft {
  display_name: string;
  bio: string;
  licenses: string;
  specialties: string;
  languages: string;
  modalities: Modality[];
  session_lengths: number[];
  currency: string;
  rates: Record<number, string>;
  timezone: string;
  accepting_new_clients: boolean;
  caseload_capacity: string;
  cancellation_window_hours: string;
  gender: string;
  faith_based: boolean;
  lgbtq_affirming: boolean;
  insurance_payers: string;
}

function draftOf(profile: MyProfile): Draft {
  const currency = profile.rates[0]?.currency ?? 'USD';
  const digits = minorUnitDigits(currency);
  return {
    display_name: profile.display_name,
    bio: profile.bio,
    licenses: profile.licenses.join(', '),
    specialties: profile.specialties.join(', '),
    languages: profile.languages.join(', '),
    modalities: profile.modalities,
    session_lengths: profile.session_lengths,
    currency,
    rates: Object.fromEntries(profile.rates.map((r) => [r.duration_minutes, (r.amount_minor / 10 ** digits).toFixed(digits)])),
    timezone: profile.timezone,
    accepting_new_clients: profile.accepting_new_clients,
    caseload_capacity: String(profile.caseload_capacity),
    cancellation_window_hours: String(profile.cancellation_window_hours),
    gender: profile.gender ?? '',
    faith_based: profile.faith_based ?? false,
    lgbtq_affirming: profile.lgbtq_affirming ?? false,
    insurance_payers: (profile.insurance_payers ?? []).join(', '),
  };
}

function list(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function inputOf(draft: Draft): ProfileInput {
  const currency = draft.currency.trim().toUpperCase();
  const digits = minorUnitDigits(currency);
  const lengths = [...draft.session_lengths].sort((a, b) => a - b);
  return {
    display_name: draft.display_name.trim(),
    bio: draft.bio,
    licenses: list(draft.licenses).map((code) => code.toUpperCase()),
    specialties: list(draft.specialties),
    languages: list(draft.languages),
    modalities: MODALITIES.map((m) => m.value).filter((m) => draft.modalities.includes(m)),
    session_lengths: lengths,
    rates: lengths.flatMap((minutes) => {
      const amount = draft.rates[minutes]?.trim();
      if (!amount) return [];
      return [{ duration_minutes: minutes, amount_minor: Math.round(Number(amount) * 10 ** digits), currency }];
    }),
    timezone: draft.timezone.trim(),
    accepting_new_clients: draft.accepting_new_clients,
    caseload_capacity: Number(draft.caseload_capacity),
    cancellation_window_hours: Number(draft.cancellation_window_hours),
    // Matching traits travel with the profile, so saving here never drops what matching knows.
    gender: draft.gender ? (draft.gender as NonNullable<ProfileInput['gender']>) : null,
    faith_based: draft.faith_based,
    lgbtq_affirming: draft.lgbtq_affirming,
    insurance_payers: list(draft.insurance_payers),
  };
}

function toggle<T>(values: T[], value: T, on: boolean): T[] {
  return on ? [...values.filter((v) => v !== value), value] : values.filter((v) => v !== value);
}

function isStale(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 412 || error.code === 'precondition_failed');
}

export function ProfileEditorPage() {
  const profile = useMyProfile();
  // Bumped when the user reloads after a conflict: the form starts again from the server's current profile.
  const [generation, setGeneration] = useState(0);
  return (
    <>
      <title>Your profile · Hearth</title>
      <h1>Your profile</h1>
      <p>Clients see everything here except your caseload capacity and cancellation window.</p>
      <QueryState isPending={profile.isPending} error={profile.error} what="your profile" />
      {profile.data && (
        <ProfileForm
          key={generation}
          loaded={profile.data}
          onReload={async () => {
            await profile.refetch();
            setGeneration((g) => g + 1);
          }}
        />
      )}
    </>
  );
}

function ProfileForm({ loaded, onReload }: { loaded: VersionedProfile; onReload: () => Promise<void> }) {
  const [draft, setDraft] = useState(() => draftOf(loaded.profile));
  // The version this draft was based on; the server refuses the save if anyone saved after it.
  const [baseEtag, setBaseEtag] = useState(loaded.etag);
  const [saved, setSaved] = useState(false);
  const save = useSaveMyProfile();
  const error = save.error;
  const stale = isStale(error);

  function set<K extends keyof Draft>(key: K, value: Draft[K]) {
    setDraft((d) => ({ ...d, [key]: value }));
    setSaved(false);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    save.mutate(
      { input: inputOf(draft), etag: baseEtag },
      {
        onSuccess: (result) => {
          setBaseEtag(result.etag);
          setSaved(true);
        },
      },
    );
  }

  const digits = minorUnitDigits(draft.currency.trim().toUpperCase());
  const lengths = [...draft.session_lengths].sort((a, b) => a - b);

  return (
    <form onSubmit={onSubmit} aria-label="Therapist profile">
      <fieldset>
        <legend>About you</legend>
        <TextField
          label="Display name"
          name="display_name"
          required
          maxLength={100}
          value={draft.display_name}
          onChange={(e) => set('display_name', e.target.value)}
          error={fieldMessage(error, 'display_name')}
        />
        <TextArea
          label="Bio"
          name="bio"
          maxLength={5000}
          hint="How you work and whom you help."
          value={draft.bio}
          onChange={(e) => set('bio', e.target.value)}
          error={fieldMessage(error, 'bio')}
        />
        <TextField
          label="Licences"
          name="licenses"
          hint="US state or country codes, separated by commas, e.g. US-NY, US-NJ, GB."
          value={draft.licenses}
          onChange={(e) => set('licenses', e.target.value)}
          error={fieldMessage(error, 'licenses')}
        />
        <TextField
          label="Specialties"
          name="specialties"
          hint="Separated by commas, e.g. anxiety, grief, couples."
          value={draft.specialties}
          onChange={(e) => set('specialties', e.target.value)}
          error={fieldMessage(error, 'specialties')}
        />
        <TextField
          label="Languages"
          name="languages"
          hint="Language codes separated by commas, e.g. en, es."
          value={draft.languages}
          onChange={(e) => set('languages', e.target.value)}
          error={fieldMessage(error, 'languages')}
        />
      </fieldset>

      <fieldset>
        <legend>Ways to meet</legend>
        {MODALITIES.map(({ value, label }) => (
          <label key={value} className="choice">
            <input
              type="checkbox"
              name="modalities"
              value={value}
              checked={draft.modalities.includes(value)}
              onChange={(e) => set('modalities', toggle(draft.modalities, value, e.target.checked))}
            />{' '}
            {label}
          </label>
        ))}
        {fieldMessage(error, 'modalities') && <p className="field-error">{fieldMessage(error, 'modalities')}</p>}
      </fieldset>

      <fieldset>
        <legend>Session lengths (minutes)</legend>
        <p className="hint">Clients can book only the lengths you tick.</p>
        <div className="choices-grid">
          {SESSION_LENGTHS.map((minutes) => (
            <label key={minutes} className="choice">
              <input
                type="checkbox"
                name="session_lengths"
                value={minutes}
                checked={draft.session_lengths.includes(minutes)}
                onChange={(e) => set('session_lengths', toggle(draft.session_lengths, minutes, e.target.checked))}
              />{' '}
              {minutes} minutes
            </label>
          ))}
        </div>
        {fieldMessage(error, 'session_lengths') && (
          <p className="field-error">{fieldMessage(error, 'session_lengths')}</p>
        )}
      </fieldset>

      <fieldset>
        <legend>Rates</legend>
        <TextField
          label="Currency"
          name="currency"
          hint="Three-letter code, e.g. USD, EUR, GBP."
          pattern="[A-Za-z]{3}"
          title="A three-letter currency code such as USD"
          maxLength={3}
          required
          value={draft.currency}
          onChange={(e) => set('currency', e.target.value)}
          error={fieldMessage(error, 'currency')}
        />
        {lengths.length === 0 && <p className="hint">Tick a session length to set its rate.</p>}
        {lengths.map((minutes) => (
          <TextField
            key={minutes}
            label={`Rate for ${minutes} minutes`}
            name={`rate_${minutes}`}
            type="number"
            min={0}
            step={digits === 0 ? 1 : 1 / 10 ** digits}
            inputMode="decimal"
            hint="Leave empty to show no price."
            value={draft.rates[minutes] ?? ''}
            onChange={(e) => set('rates', { ...draft.rates, [minutes]: e.target.value })}
          />
        ))}
        {fieldMessage(error, 'amount_minor') && <p className="field-error">{fieldMessage(error, 'amount_minor')}</p>}
      </fieldset>

      <fieldset>
        <legend>Practice</legend>
        <TimeZoneField
          name="timezone"
          hint="Your practice’s zone, shown to clients. Your own calendar uses the time zone in your settings."
          value={draft.timezone}
          onChange={(zone) => set('timezone', zone)}
          error={fieldMessage(error, 'timezone')}
        />
        <label className="choice">
          <input
            type="checkbox"
            name="accepting_new_clients"
            checked={draft.accepting_new_clients}
            onChange={(e) => set('accepting_new_clients', e.target.checked)}
          />{' '}
          Accepting new clients
        </label>
        <TextField
          label="Caseload capacity"
          name="caseload_capacity"
          type="number"
          min={0}
          max={1000}
          required
          hint="The most active clients you take on (private)."
          value={draft.caseload_capacity}
          onChange={(e) => set('caseload_capacity', e.target.value)}
          error={fieldMessage(error, 'caseload_capacity')}
        />
        <TextField
          label="Cancellation window (hours)"
          name="cancellation_window_hours"
          type="number"
          min={0}
          max={168}
          required
          hint="A client who cancels later than this before a session is recorded as a late cancellation (private)."
          value={draft.cancellation_window_hours}
          onChange={(e) => set('cancellation_window_hours', e.target.value)}
          error={fieldMessage(error, 'cancellation_window_hours')}
        />
      </fieldset>

      <fieldset>
        <legend>Matching</legend>
        <p className="hint">Used only when a client states a preference; all optional.</p>
        <SelectField
          label="Gender"
          name="gender"
          value={draft.gender}
          onChange={(e) => set('gender', e.target.value)}
          options={[
            { value: '', label: 'Not stated' },
            { value: 'woman', label: 'Woman' },
            { value: 'man', label: 'Man' },
            { value: 'non_binary', label: 'Non-binary' },
          ]}
          error={fieldMessage(error, 'gender')}
        />
        <label className="choice">
          <input
            type="checkbox"
            name="faith_based"
            checked={draft.faith_based}
            onChange={(e) => set('faith_based', e.target.checked)}
          />{' '}
          I offer a faith-based approach
        </label>
        <label className="choice">
          <input
            type="checkbox"
            name="lgbtq_affirming"
            checked={draft.lgbtq_affirming}
            onChange={(e) => set('lgbtq_affirming', e.target.checked)}
          />{' '}
          LGBTQ+-affirming practice
        </label>
        <TextField
          label="Insurers in network"
          name="insurance_payers"
          hint="Separated by commas."
          value={draft.insurance_payers}
          onChange={(e) => set('insurance_payers', e.target.value)}
          error={fieldMessage(error, 'insurance_payers')}
        />
      </fieldset>

      {stale ? (
        <div className="alert" role="alert">
          <p>
            Your profile was changed somewhere else (another tab or device) after you opened this page, so these
            changes were <strong>not saved</strong>. Reload the profile to see the current version, then make your
            changes again.
          </p>
          <button type="button" onClick={() => void onReload()}>
            Reload profile
          </button>
        </div>
      ) : (
        <ErrorAlert error={error} />
      )}

      <StatusMessage>{saved && <p>Profile saved.</p>}</StatusMessage>
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save profile'}
      </button>
    </form>
  );
}
