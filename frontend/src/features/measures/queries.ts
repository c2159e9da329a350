import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMe } from '../auth/useAuth';
import { planKeys } from '../plans/queries';
import { CUTOFF } from './labels';
import {
  acknowledgeSafetyAlert,
  assignMeasure,
  endAssignment,
  fetchAssignments,
  fetchInstruments,
  fetchSafetyAlerts,
  fetchScores,
  fetchTrend,
  submitResponse,
} from './measuresApi';
import type { AssignMeasure, InstrumentCode, SubmitResponse } from './types';

export const measureKeys = {
  instruments: ['instruments'] as const,
  client: (clientId: string) => ['measures', clientId] as const,
  assignments: (clientId: string) => ['measures', clientId, 'assignments'] as const,
  scores: (clientId: string) => ['measures', clientId, 'scores'] as const,
  trend: (clientId: string, instrument: InstrumentCode) => ['measures', clientId, 'trend', instrument] as const,
  alerts: ['safety-alerts'] as const,
};

/** How often an open therapist page asks for new safety alerts. */
export const ALERT_POLL_MS = 4_000;

export function useInstruments() {
  // The questionnaires are versioned on the server and never change while the app runs.
  return useQuery({ queryKey: measureKeys.instruments, queryFn: fetchInstruments, staleTime: Infinity });
}

export function useAssignments(clientId: string | undefined) {
  return useQuery({
    queryKey: measureKeys.assignments(clientId ?? ''),
    queryFn: () => fetchAssignments(clientId!),
    enabled: !!clientId,
  });
}

export function useScores(clientId: string | undefined) {
  return useQuery({ queryKey: measureKeys.scores(clientId ?? ''), queryFn: () => fetchScores(clientId!), enabled: !!clientId });
}

export function useTrend(clientId: string, instrument: InstrumentCode) {
  return useQuery({ queryKey: measureKeys.trend(clientId, instrument), queryFn: () => fetchTrend(clientId, instrument, CUTOFF) });
}

export function useAssignMeasure(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: AssignMeasure) => assignMeasure(clientId, body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: measureKeys.assignments(clientId) }),
  });
}

export function useEndAssignment(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: endAssignment,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: measureKeys.assignments(clientId) }),
  });
}

export function useSubmitResponse(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ assignmentId, body }: { assignmentId: string; body: SubmitResponse }) => submitResponse(assignmentId, body),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: measureKeys.client(clientId) });
      // A score can move an objective with a numeric target: the plan gets a new version.
      void queryClient.invalidateQueries({ queryKey: planKeys.all });
    },
  });
}

/**
 * The signed-in therapist's open safety alerts, polled so a new one shows on any open page without a reload —
 * also while the tab is in the background, since that is when a therapist would otherwise miss it.
 */
export function useSafetyAlerts() {
  const me = useMe().data;
  return useQuery({
    queryKey: measureKeys.alerts,
    queryFn: fetchSafetyAlerts,
    enabled: me?.role === 'therapist',
    refetchInterval: ALERT_POLL_MS,
    refetchIntervalInBackground: true,
  });
}

export function useAcknowledgeAlert() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: acknowledgeSafetyAlert,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: measureKeys.alerts }),
  });
}
