import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Versioned } from '../../api/result';
import {
  fetchBillingSettings,
  fetchCancellationTerms,
  fetchCharges,
  fetchInvoices,
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
