import { useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { fieldMessage } from '../../api/problem';
import type { Versioned } from '../../api/result';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { fetchClaimRecord, saveClaimRecord } from './billingApi';
import type { ClaimRecord } from './types';

const claimKey = (clientId: string) => ['billing', 'claim-record', clientId] as const;

/** Diagnoses (ICD-10-CM) and date of birth: what a completed session's coding and the superbill carry. */
export function ClaimRecordTab({ clientId }: { clientId: string }) {
  const record = useQuery({ queryKey: claimKey(clientId), queryFn: () => fetchClaimRecord(clientId) });
  return (
    <>
      <QueryState isPending={record.isPending} error={record.error} what="the billing record" />
      {/* Keyed by the client, not the ETag: a save gives a new ETag, and remounting would drop "saved". */}
      {record.data && <ClaimRecordForm key={clientId} clientId={clientId} loaded={record.data} />}
    </>
  );
}

function ClaimRecordForm({ clientId, loaded }: { clientId: string; loaded: Versioned<ClaimRecord> }) {
  const client = useQueryClient();
  const [diagnoses, setDiagnoses] = useState(loaded.data.diagnoses.join(', '));
  const [born, setBorn] = useState(loaded.data.date_of_birth ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [pending, setPending] = useState(false);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    setPending(true);
    const codes = diagnoses
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    saveClaimRecord(clientId, { diagnoses: codes, date_of_birth: born || null }, loaded.etag)
      .then((result) => {
        setSaved(true);
        client.setQueryData(claimKey(clientId), result);
      }, setError)
      .finally(() => setPending(false));
  }

  return (
    <form onSubmit={onSubmit} aria-label="Billing record">
      <TextField
        label="Diagnoses (ICD-10-CM)"
        name="diagnoses"
        hint="Up to four codes separated by commas, the primary first, e.g. F41.1, F32.0. Sessions completed from now on carry them."
        value={diagnoses}
        onChange={(e) => setDiagnoses(e.target.value)}
        error={fieldMessage(error, 'diagnoses')}
      />
      <TextField
        label="Date of birth"
        name="date_of_birth"
        type="date"
        value={born}
        onChange={(e) => setBorn(e.target.value)}
        error={fieldMessage(error, 'date_of_birth')}
      />
      <ErrorAlert error={error} />
      <StatusMessage>{saved && <p>Billing record saved.</p>}</StatusMessage>
      <button type="submit" disabled={pending}>
        Save billing record
      </button>
    </form>
  );
}
