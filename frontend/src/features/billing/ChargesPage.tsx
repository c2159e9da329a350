import { useState, type FormEvent } from 'react';
import { fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { CHARGE_KIND, INVOICE_STATUS, money, posLabel } from './labels';
import { useCharges, useOverrideCoding } from './queries';
import type { Charge, CodingOverride } from './types';

/** Every charge with its coding; the therapist can override any coding field with a reason. */
export function ChargesPage() {
  const charges = useCharges();
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <>
      <title>Charges · Hearth</title>
      <h1>Charges</h1>
      <p className="hint">
        Codes come from the real session: CPT from the connected minutes, the modifier from the modality used most
        (95 video, 93 audio-only), the place of service from the client’s check-in (10 home, 02 elsewhere).
      </p>
      <QueryState isPending={charges.isPending} error={charges.error} what="charges" />
      {charges.data && charges.data.length === 0 && <p>No charges yet.</p>}
      {charges.data && charges.data.length > 0 && (
        <table aria-label="Charges">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">What</th>
              <th scope="col">Procedure</th>
              <th scope="col">Place</th>
              <th scope="col">Diagnoses</th>
              <th scope="col">Amount</th>
              <th scope="col">Invoice</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {charges.data.map((charge) => (
              <ChargeRow
                key={charge.id}
                charge={charge}
                editing={editing === charge.id}
                onEdit={() => setEditing(editing === charge.id ? null : charge.id)}
              />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function ChargeRow({ charge, editing, onEdit }: { charge: Charge; editing: boolean; onEdit: () => void }) {
  const coding = charge.coding;
  return (
    <>
      <tr>
        <td>{charge.service_date}</td>
        <td>{CHARGE_KIND[charge.kind] ?? charge.kind}</td>
        <td>
          {coding?.procedure ?? '—'}
          {coding && coding.overrides.length > 0 && <span className="muted"> (overridden)</span>}
        </td>
        <td>{coding ? posLabel(coding.place_of_service) : '—'}</td>
        <td>{coding?.diagnoses.join(', ') || '—'}</td>
        <td>{money(charge.amount)}</td>
        <td>{charge.invoice ? (INVOICE_STATUS[charge.invoice.status] ?? charge.invoice.status) : 'none'}</td>
        <td>
          {coding && (
            <button type="button" className="button secondary" aria-expanded={editing} onClick={onEdit}>
              Override coding of {charge.service_date}
            </button>
          )}
        </td>
      </tr>
      {editing && coding && (
        <tr>
          <td colSpan={8}>
            <OverrideForm charge={charge} />
          </td>
        </tr>
      )}
    </>
  );
}

function OverrideForm({ charge }: { charge: Charge }) {
  const coding = charge.coding!;
  const [cpt, setCpt] = useState(coding.cpt ?? '');
  const [modifier, setModifier] = useState(coding.modifier ?? '');
  const [pos, setPos] = useState(coding.place_of_service);
  const [diagnoses, setDiagnoses] = useState(coding.diagnoses.join(', '));
  const [reason, setReason] = useState('');
  const [done, setDone] = useState(false);
  const override = useOverrideCoding();
  const error = override.error;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setDone(false);
    const body: CodingOverride = { reason, expected_version: charge.version };
    if (cpt.trim() !== (coding.cpt ?? '')) body.cpt = cpt.trim() || null;
    if (modifier.trim() !== (coding.modifier ?? '')) body.modifier = modifier.trim() || null;
    if (pos.trim() !== coding.place_of_service) body.place_of_service = pos.trim();
    const codes = diagnoses
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (codes.join(',') !== coding.diagnoses.join(',')) body.diagnoses = codes;
    override.mutate({ chargeId: charge.id, body }, { onSuccess: () => setDone(true) });
  }

  return (
    <form onSubmit={onSubmit} aria-label={`Override coding of ${charge.service_date}`}>
      <TextField label="CPT" name="cpt" maxLength={5} value={cpt} onChange={(e) => setCpt(e.target.value)} error={fieldMessage(error, 'cpt')} />
      <TextField
        label="Modifier"
        name="modifier"
        maxLength={2}
        value={modifier}
        onChange={(e) => setModifier(e.target.value)}
        error={fieldMessage(error, 'modifier')}
      />
      <TextField
        label="Place of service"
        name="place_of_service"
        maxLength={2}
        value={pos}
        onChange={(e) => setPos(e.target.value)}
        error={fieldMessage(error, 'place_of_service')}
      />
      <TextField
        label="Diagnoses"
        name="diagnoses"
        hint="ICD-10-CM codes separated by commas, the primary first."
        value={diagnoses}
        onChange={(e) => setDiagnoses(e.target.value)}
        error={fieldMessage(error, 'diagnoses')}
      />
      <TextField
        label="Reason"
        name="reason"
        required
        maxLength={500}
        hint="Kept with the charge and recorded in the audit trail."
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        error={fieldMessage(error, 'reason')}
      />
      <ErrorAlert error={error} />
      <StatusMessage>{done && <p>Coding overridden.</p>}</StatusMessage>
      <button type="submit" disabled={override.isPending}>
        Save override
      </button>
      {coding.overrides.length > 0 && (
        <>
          <h3>Earlier overrides</h3>
          <ul>
            {coding.overrides.map((o, i) => (
              <li key={i}>
                {o.field}: {o.previous ?? '—'} → {o.new ?? '—'} ({o.reason})
              </li>
            ))}
          </ul>
        </>
      )}
    </form>
  );
}
