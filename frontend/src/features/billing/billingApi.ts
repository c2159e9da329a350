import { api } from '../../api/client';
import { toApiError } from '../../api/problem';
import { unwrap, unwrapVersioned, unwrapVersionedOrNull, type Versioned } from '../../api/result';
import type {
  BillingSettings,
  BillingSettingsInput,
  CancellationTerms,
  Charge,
  ClaimRecord,
  CodingOverride,
  Invoice,
  Payment,
  PaymentsConfig,
  Policy,
  PolicyInput,
  Statements,
} from './types';

export function fetchBillingSettings(): Promise<Versioned<BillingSettings>> {
  return unwrapVersioned(api.GET('/api/v1/therapists/me/billing-settings'));
}

export function saveBillingSettings(input: BillingSettingsInput, etag: string): Promise<Versioned<BillingSettings>> {
  return unwrapVersioned(
    api.PUT('/api/v1/therapists/me/billing-settings', { body: input, params: { header: { 'if-match': etag } } }),
  );
}

/** The therapist's current cancellation policy, or null when they have published none. */
export function fetchPolicy(therapistId: string): Promise<Versioned<Policy> | null> {
  return unwrapVersionedOrNull(
    api.GET('/api/v1/therapists/{therapist_id}/cancellation-policy', { params: { path: { therapist_id: therapistId } } }),
  );
}

/** What cancelling the session now would cost its client, under the policy they accepted at booking. */
export function fetchCancellationTerms(appointmentId: string): Promise<CancellationTerms> {
  return unwrap(
    api.GET('/api/v1/appointments/{appointment_id}/cancellation-terms', { params: { path: { appointment_id: appointmentId } } }),
  );
}

export function publishPolicy(input: PolicyInput, etag: string): Promise<Versioned<Policy>> {
  return unwrapVersioned(
    api.PUT('/api/v1/therapists/me/cancellation-policy', { body: input, params: { header: { 'if-match': etag } } }),
  );
}

export async function fetchCharges(): Promise<Charge[]> {
  return (await unwrap(api.GET('/api/v1/charges', { params: { query: { limit: 200 } } }))).items;
}

export function overrideCoding(chargeId: string, body: CodingOverride): Promise<Charge> {
  return unwrap(
    api.POST('/api/v1/charges/{charge_id}/coding-overrides', { params: { path: { charge_id: chargeId } }, body }),
  );
}

export async function fetchInvoices(): Promise<Invoice[]> {
  return (await unwrap(api.GET('/api/v1/invoices', { params: { query: { limit: 200 } } }))).items;
}

export function fetchInvoice(invoiceId: string): Promise<Invoice> {
  return unwrap(api.GET('/api/v1/invoices/{invoice_id}', { params: { path: { invoice_id: invoiceId } } }));
}

/** Which payment provider's card form to load, with its publishable key. */
export function fetchPaymentsConfig(): Promise<PaymentsConfig> {
  return unwrap(api.GET('/api/v1/payments/config'));
}

/** Pays with a card payment method; the key makes a retried click replay the first answer. */
export function payInvoice(
  invoiceId: string,
  paymentMethodId: string,
  saveForFees: boolean,
  idempotencyKey: string,
): Promise<Payment> {
  return unwrap(
    api.POST('/api/v1/invoices/{invoice_id}/payments', {
      params: { path: { invoice_id: invoiceId }, header: { 'Idempotency-Key': idempotencyKey } },
      body: { payment_method_id: paymentMethodId, save_for_fees: saveForFees },
    }),
  );
}

export function fetchStatements(from: string, to: string): Promise<Statements> {
  return unwrap(api.GET('/api/v1/therapists/me/statements', { params: { query: { from, to } } }));
}

export function fetchClaimRecord(clientId: string): Promise<Versioned<ClaimRecord>> {
  return unwrapVersioned(
    api.GET('/api/v1/clients/{client_id}/billing-record', { params: { path: { client_id: clientId } } }),
  );
}

export function saveClaimRecord(
  clientId: string,
  body: { diagnoses: string[]; date_of_birth: string | null },
  etag: string,
): Promise<Versioned<ClaimRecord>> {
  return unwrapVersioned(
    api.PUT('/api/v1/clients/{client_id}/billing-record', {
      params: { path: { client_id: clientId }, header: { 'if-match': etag } },
      body,
    }),
  );
}

async function download(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
  filename: string,
): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) throw toApiError(error, response);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads the superbill PDF (it needs the bearer token, so it is fetched, not linked). */
export function downloadSuperbill(clientId: string, from: string, to: string): Promise<void> {
  return download(
    api.GET('/api/v1/clients/{client_id}/superbill', {
      params: { path: { client_id: clientId }, query: { from, to } },
      parseAs: 'stream',
    }),
    `superbill-${from}-${to}.pdf`,
  );
}

export function downloadStatementsCsv(from: string, to: string): Promise<void> {
  return download(
    api.GET('/api/v1/therapists/me/statements.csv', { params: { query: { from, to } }, parseAs: 'stream' }),
    `statements-${from}-${to}.csv`,
  );
}
