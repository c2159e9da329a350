import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Versioned } from '../../api/result';
import {
  fetchBillingSettings,
  fetchCancellationTerms,
  fetchCharges,
  fetchInvoice,
  fetchInvoices,
  fetchPaymentsConfig,
  fetchPolicy,
  fetchStatements,
  overrideCoding,
  payInvoice,
  publishPolicy,
  saveBillingSettings,
} from './billingApi';
import type { BillingSettingsInput, CodingOverride, Policy, PolicyInput } from './types';

export const billingKeys = {
  settings: ['billing', 'settings'] as const,
  policy: (therapistId: string) => ['billing', 'policy', therapistId] as const,
  cancellationTerms: (appointmentId: string) => ['billing', 'cancellation-terms', appointmentId] as const,
  charges: ['billing', 'charges'] as const,
  invoices: ['billing', 'invoices'] as const,
  invoice: (invoiceId: string) => ['billing', 'invoices', invoiceId] as const,
  paymentsConfig: ['billing', 'payments-config'] as const,
  statements: (from: string, to: string) => ['billing', 'statements', from, to] as const,
};

export function useBillingSettings() {
  return useQuery({ queryKey: billingKeys.settings, queryFn: fetchBillingSettings });
}

export function useSaveBillingSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ input, etag }: { input: BillingSettingsInput; etag: string }) => saveBillingSettings(input, etag),
    onSuccess: (saved) => client.setQueryData(billingKeys.settings, saved),
  });
}

export function usePolicy(therapistId: string | undefined) {
  return useQuery({
    queryKey: billingKeys.policy(therapistId ?? ''),
    queryFn: () => fetchPolicy(therapistId ?? ''),
    enabled: Boolean(therapistId),
  });
}

/** Whether cancelling now would be late, and its fee: a moving target, so never served from an old answer. */
export function useCancellationTerms(appointmentId: string, enabled: boolean) {
  return useQuery({
    queryKey: billingKeys.cancellationTerms(appointmentId),
    queryFn: () => fetchCancellationTerms(appointmentId),
    enabled,
    staleTime: 0,
  });
}

export function usePublishPolicy(therapistId: string | undefined) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ input, etag }: { input: PolicyInput; etag: string }) => publishPolicy(input, etag),
    onSuccess: (saved: Versioned<Policy>) => client.setQueryData(billingKeys.policy(therapistId ?? ''), saved),
  });
}

export function useCharges() {
  return useQuery({ queryKey: billingKeys.charges, queryFn: fetchCharges });
}

export function useOverrideCoding() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ chargeId, body }: { chargeId: string; body: CodingOverride }) => overrideCoding(chargeId, body),
    onSuccess: () => client.invalidateQueries({ queryKey: billingKeys.charges }),
  });
}

export function useInvoices() {
  return useQuery({ queryKey: billingKeys.invoices, queryFn: fetchInvoices });
}

/** The server's payment provider and publishable key: fixed while the server runs. */
export function usePaymentsConfig() {
  return useQuery({ queryKey: billingKeys.paymentsConfig, queryFn: fetchPaymentsConfig, staleTime: Infinity });
}

// An invoice waits for the provider's webhook: after the client's bank confirmed the payment (`open` until the
// webhook arrives), or while the payment is `processing`.
const UNSETTLED = new Set(['open', 'processing']);
const SETTLE_POLL_MS = 1500;
const SETTLE_WAIT_MS = 120_000;

/**
 * While a payment `attempt` (any token unique to it) awaits the provider, reads the invoice again and again until
 * it no longer does (paid, failed, ...), then refreshes the invoice list so the page shows the outcome. Gives up
 * after two minutes (`timedOut`). A null attempt reads nothing.
 */
export function useSettlingInvoice(invoiceId: string, attempt: string | null) {
  const client = useQueryClient();
  const [timedOut, setTimedOut] = useState<string | null>(null);
  const waiting = attempt !== null && timedOut !== attempt;
  const query = useQuery({
    queryKey: [...billingKeys.invoice(invoiceId), 'settling', attempt] as const,
    queryFn: () => fetchInvoice(invoiceId),
    enabled: waiting,
    staleTime: 0,
    gcTime: 0,
    refetchInterval: (q) => (UNSETTLED.has(q.state.data?.status ?? 'open') ? SETTLE_POLL_MS : false),
  });
  const status = attempt !== null ? query.data?.status : undefined;
  const settled = status !== undefined && !UNSETTLED.has(status);
  useEffect(() => {
    if (attempt === null || settled) return undefined;
    const timer = window.setTimeout(() => setTimedOut(attempt), SETTLE_WAIT_MS);
    return () => window.clearTimeout(timer);
  }, [attempt, settled]);
  useEffect(() => {
    if (settled) void client.invalidateQueries({ queryKey: billingKeys.invoices, exact: true });
  }, [settled, client]);
  return { status, settled, timedOut: attempt !== null && timedOut === attempt && !settled };
}

export function usePayInvoice() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({
      invoiceId,
      paymentMethodId,
      saveForFees,
      key,
    }: {
      invoiceId: string;
      paymentMethodId: string;
      saveForFees: boolean;
      key: string;
    }) => payInvoice(invoiceId, paymentMethodId, saveForFees, key),
    onSettled: () => client.invalidateQueries({ queryKey: billingKeys.invoices }),
  });
}

export function useStatements(from: string, to: string) {
  return useQuery({ queryKey: billingKeys.statements(from, to), queryFn: () => fetchStatements(from, to) });
}
