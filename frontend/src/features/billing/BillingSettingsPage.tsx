import { useState, type FormEvent } from 'react';
import { fieldMessage } from '../../api/problem';
import type { Versioned } from '../../api/result';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { SelectField } from '../../components/SelectField';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { useMe } from '../auth/useAuth';
import { MODALITIES, SESSION_LENGTHS, minorUnitDigits } from '../scheduling/labels';
import { useBillingSettings, usePolicy, usePublishPolicy, useSaveBillingSettings } from './queries';
import type { BillingSettings, BillingSettingsInput, FeeRule, Policy, PolicyInput } from './types';

const toMinor = (text: string, digits: number) => Math.round(Number(text) * 10 ** digits);
const toText = (minor: number, digits: number) => (minor / 10 ** digits).toFixed(digits);

interface RateDraft {
  minutes: string;
  modality: string;
  amount: string;
}

/** The therapist's prices and cancellation policy. */
export function BillingSettingsPage() {
  const me = useMe().data;
  const settings = useBillingSettings();
  const policy = usePolicy(me?.id);
  return (
    <>
      <title>Rates and policy · Hearth</title>
      <h1>Rates and policy</h1>
      <QueryState isPending={settings.isPending} error={settings.error} what="your rates" />
      {/* Not keyed by the ETag: a save gives a new one, and remounting would drop the form's "saved" message. The
          form sends the ETag it was last given, so a save over someone else's change is still refused. */}
      {settings.data && <RatesForm loaded={settings.data} />}
      <QueryState isPending={policy.isPending} error={policy.error} what="your cancellation policy" />
      {policy.data !== undefined && settings.data && (
        <PolicyForm
          loaded={policy.data}
          therapistId={me?.id}
          currency={settings.data.data.currency}
        />
      )}
    </>
  );
}

function RatesForm({ loaded }: { loaded: Versioned<BillingSettings> }) {
  const s = loaded.data;
  const digits = minorUnitDigits(s.currency);
  const [currency, setCurrency] = useState(s.currency);
  const [rates, setRates] = useState<RateDraft[]>(
    s.rates.map((r) => ({ minutes: String(r.minutes), modality: r.modality ?? '', amount: toText(r.amount_minor, digits) })),
  );
  const [checkIn, setCheckIn] = useState(s.check_in_amount_minor == null ? '' : toText(s.check_in_amount_minor, digits));
  const [schedule, setSchedule] = useState(s.invoice_schedule);
  const [npi, setNpi] = useState(s.npi ?? '');
  const [taxId, setTaxId] = useState(s.tax_id ?? '');
  const [saved, setSaved] = useState(false);
  const save = useSaveBillingSettings();
  const error = save.error;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    const code = currency.trim().toUpperCase();
    const d = minorUnitDigits(code);
    const input: BillingSettingsInput = {
      currency: code,
      rates: rates
        .filter((r) => r.amount.trim() !== '')
        .map((r) => ({
          minutes: Number(r.minutes),
          modality: (r.modality || null) as BillingSettingsInput['rates'][number]['modality'],
          amount_minor: toMinor(r.amount, d),
        })),
      check_in_amount_minor: checkIn.trim() === '' ? null : toMinor(checkIn, d),
      sliding_scale: s.sliding_scale,
      invoice_schedule: schedule === 'monthly' ? 'monthly' : 'per_charge',
      npi: npi.trim() || null,
      tax_id: taxId.trim() || null,
    };
    save.mutate({ input, etag: loaded.etag }, { onSuccess: () => setSaved(true) });
  }

  const setRate = (index: number, patch: Partial<RateDraft>) =>
    setRates((all) => all.map((r, i) => (i === index ? { ...r, ...patch } : r)));

  return (
    <form onSubmit={onSubmit} aria-label="Rates" className="form-section">
      <h2>Rates</h2>
      <p className="hint">
        The price follows the booked length and modality; a rate for “any modality” applies when there is no exact
        one. A session with under 16 minutes of voice is billed as a brief check-in.
      </p>
      <TextField
        label="Currency"
        name="currency"
        maxLength={3}
        pattern="[A-Za-z]{3}"
        required
        value={currency}
        onChange={(e) => setCurrency(e.target.value)}
        error={fieldMessage(error, 'currency')}
      />
      {rates.map((rate, index) => (
        <fieldset key={index}>
          <legend>Rate {index + 1}</legend>
          <SelectField
            label={`Length of rate ${index + 1}`}
            name={`rate_minutes_${index}`}
            value={rate.minutes}
            onChange={(e) => setRate(index, { minutes: e.target.value })}
            options={SESSION_LENGTHS.map((m) => ({ value: String(m), label: `${m} minutes` }))}
          />
          <SelectField
            label={`Modality of rate ${index + 1}`}
            name={`rate_modality_${index}`}
            value={rate.modality}
            onChange={(e) => setRate(index, { modality: e.target.value })}
            options={[{ value: '', label: 'Any modality' }, ...MODALITIES.map((m) => ({ value: m.value, label: m.label }))]}
          />
          <TextField
            label={`Price of rate ${index + 1}`}
            name={`rate_amount_${index}`}
            type="number"
            min={0}
            step={digits === 0 ? 1 : 1 / 10 ** digits}
            inputMode="decimal"
            value={rate.amount}
            onChange={(e) => setRate(index, { amount: e.target.value })}
          />
          <button type="button" className="button secondary" onClick={() => setRates((all) => all.filter((_, i) => i !== index))}>
            Remove rate {index + 1}
          </button>
        </fieldset>
      ))}
      <button type="button" className="button secondary" onClick={() => setRates((all) => [...all, { minutes: '50', modality: '', amount: '' }])}>
        Add a rate
      </button>
      <TextField
        label="Brief check-in price"
        name="check_in"
        type="number"
        min={0}
        step={digits === 0 ? 1 : 1 / 10 ** digits}
        hint="Leave empty to bill a brief check-in at the booked session's rate."
        value={checkIn}
        onChange={(e) => setCheckIn(e.target.value)}
      />
      <SelectField
        label="Invoices"
        name="invoice_schedule"
        value={schedule}
        onChange={(e) => setSchedule(e.target.value)}
        options={[
          { value: 'per_charge', label: 'One invoice per session or fee, sent at once' },
          { value: 'monthly', label: 'Kept as drafts and sent together each month' },
        ]}
      />
      <TextField
        label="NPI"
        name="npi"
        hint="Your 10-digit National Provider Identifier, printed on superbills."
        pattern="[0-9]{10}"
        value={npi}
        onChange={(e) => setNpi(e.target.value)}
        error={fieldMessage(error, 'npi')}
      />
      <TextField
        label="Tax ID"
        name="tax_id"
        value={taxId}
        onChange={(e) => setTaxId(e.target.value)}
        error={fieldMessage(error, 'tax_id')}
      />
      <ErrorAlert error={error} />
      <StatusMessage>{saved && <p>Rates saved.</p>}</StatusMessage>
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save rates'}
      </button>
    </form>
  );
}

type FeeKind = 'none' | 'flat' | 'percent';

function feeKind(rule: FeeRule | null | undefined): FeeKind {
  if (!rule) return 'none';
  return rule.flat_amount_minor != null ? 'flat' : 'percent';
}

function FeeFields({
  label,
  name,
  kind,
  value,
  onKind,
  onValue,
}: {
  label: string;
  name: string;
  kind: FeeKind;
  value: string;
  onKind: (kind: FeeKind) => void;
  onValue: (value: string) => void;
}) {
  return (
    <fieldset>
      <legend>{label}</legend>
      <SelectField
        label={`${label}: kind`}
        name={`${name}_kind`}
        value={kind}
        onChange={(e) => onKind(e.target.value as FeeKind)}
        options={[
          { value: 'none', label: 'No fee' },
          { value: 'flat', label: 'A flat amount' },
          { value: 'percent', label: 'A percentage of the session price' },
        ]}
      />
      {kind !== 'none' && (
        <TextField
          label={kind === 'flat' ? `${label}: amount` : `${label}: percent`}
          name={`${name}_value`}
          type="number"
          min={0}
          max={kind === 'percent' ? 100 : undefined}
          step="0.01"
          required
          value={value}
          onChange={(e) => onValue(e.target.value)}
        />
      )}
    </fieldset>
  );
}

function PolicyForm({
  loaded,
  therapistId,
  currency,
}: {
  loaded: Versioned<Policy> | null;
  therapistId: string | undefined;
  currency: string;
}) {
  const digits = minorUnitDigits(currency);
  const p = loaded?.data;
  const initial = (rule: FeeRule | null | undefined) =>
    rule?.flat_amount_minor != null
      ? toText(rule.flat_amount_minor, digits)
      : rule?.percent_bp != null
        ? String(rule.percent_bp / 100)
        : '';
  const [windowHours, setWindowHours] = useState(String(p?.window_hours ?? 24));
  const [lateKind, setLateKind] = useState<FeeKind>(feeKind(p?.late_cancellation));
  const [late, setLate] = useState(initial(p?.late_cancellation));
  const [noShowKind, setNoShowKind] = useState<FeeKind>(feeKind(p?.no_show));
  const [noShow, setNoShow] = useState(initial(p?.no_show));
  const [published, setPublished] = useState<number | null>(null);
  const publish = usePublishPolicy(therapistId);

  function rule(kind: FeeKind, value: string): FeeRule | null {
    if (kind === 'none') return null;
    if (kind === 'flat') return { flat_amount_minor: toMinor(value, digits), percent_bp: null };
    return { flat_amount_minor: null, percent_bp: Math.round(Number(value) * 100) };
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input: PolicyInput = {
      window_hours: Number(windowHours),
      late_cancellation: rule(lateKind, late),
      no_show: rule(noShowKind, noShow),
    };
    publish.mutate({ input, etag: loaded?.etag ?? '"v0"' }, { onSuccess: (saved) => setPublished(saved.data.version) });
  }

  return (
    <form onSubmit={onSubmit} aria-label="Cancellation policy" className="form-section">
      <h2>Cancellation policy</h2>
      <p className="hint">
        {p ? `Version ${p.version} is current.` : 'No policy yet: clients owe nothing for late cancellations or no-shows.'}{' '}
        Clients accept the current version when they book; a fee is charged only if the version they accepted has it.
      </p>
      <TextField
        label="Cancellation window (hours)"
        name="window_hours"
        type="number"
        min={0}
        max={168}
        required
        value={windowHours}
        onChange={(e) => setWindowHours(e.target.value)}
      />
      <FeeFields label="Late cancellation fee" name="late" kind={lateKind} value={late} onKind={setLateKind} onValue={setLate} />
      <FeeFields label="No-show fee" name="no_show" kind={noShowKind} value={noShow} onKind={setNoShowKind} onValue={setNoShow} />
      <ErrorAlert error={publish.error} />
      <StatusMessage>{published != null && <p>Policy version {published} published.</p>}</StatusMessage>
      <button type="submit" disabled={publish.isPending}>
        {publish.isPending ? 'Publishing…' : 'Publish policy'}
      </button>
    </form>
  );
}
