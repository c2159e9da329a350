import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { toApiError } from '../../api/problem';
import { unwrap } from '../../api/result';
import type { components } from '../../api/schema';

export type PhoneCall = components['schemas']['PhoneCallOut'];
export type PhoneCallStatus = PhoneCall['status'];

const LIVE: ReadonlySet<PhoneCallStatus> = new Set(['queued', 'ringing', 'in_progress']);

export function isLive(call: PhoneCall | null | undefined): boolean {
  return !!call && LIVE.has(call.status);
}

export const phoneCallKey = (appointmentId: string) => ['phone-call', appointmentId] as const;

/** The session's latest call, or null before the first one. */
async function fetchPhoneCall(appointmentId: string): Promise<PhoneCall | null> {
  const { data, error, response } = await api.GET('/api/v1/appointments/{appointment_id}/phone-call', {
    params: { path: { appointment_id: appointmentId } },
  });
  if (response.ok && data) return data;
  const problem = toApiError(error, response);
  if (problem.code === 'no_phone_call') return null;
  throw problem;
}

/** Polls while a call is under way: the provider reports progress to the server, not to the browser. */
export function usePhoneCall(appointmentId: string) {
  return useQuery({
    queryKey: phoneCallKey(appointmentId),
    queryFn: () => fetchPhoneCall(appointmentId),
    refetchInterval: (query) => (isLive(query.state.data) ? 1500 : false),
  });
}

export function usePlaceCall(appointmentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/appointments/{appointment_id}/phone-call', {
          params: { path: { appointment_id: appointmentId } },
        }),
      ),
    onSuccess: (call) => queryClient.setQueryData(phoneCallKey(appointmentId), call),
  });
}

export function useHangUp(appointmentId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/appointments/{appointment_id}/phone-call/hang-up', {
          params: { path: { appointment_id: appointmentId } },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: phoneCallKey(appointmentId) }),
  });
}

export const STATUS_TEXT: Record<PhoneCallStatus, string> = {
  queued: 'Placing the call…',
  ringing: 'Ringing…',
  in_progress: 'Connected',
  completed: 'Call ended',
  busy: 'The line was busy',
  no_answer: 'Nobody answered',
  failed: 'The call could not be placed',
  canceled: 'The call was cancelled before your client answered',
};
