import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { acknowledgePlan, fetchPlan, fetchPlanVersion, savePlan } from './plansApi';
import type { PlanDocument } from './types';

export const planKeys = {
  all: ['plans'] as const,
  client: (clientId: string) => ['plans', clientId] as const,
  plan: (clientId: string, therapistId?: string) => ['plans', clientId, 'current', therapistId ?? null] as const,
  version: (clientId: string, version: number) => ['plans', clientId, 'version', version] as const,
};

export function usePlan(clientId: string | undefined, therapistId?: string) {
  return useQuery({
    queryKey: planKeys.plan(clientId ?? '', therapistId),
    queryFn: () => fetchPlan(clientId!, therapistId),
    enabled: !!clientId,
  });
}

export function usePlanVersion(clientId: string, version: number | null) {
  return useQuery({
    queryKey: planKeys.version(clientId, version ?? 0),
    queryFn: () => fetchPlanVersion(clientId, version!),
    enabled: version !== null,
    staleTime: Infinity, // a written version never changes
  });
}

export function useSavePlan(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ document, etag }: { document: PlanDocument; etag: string }) => savePlan(clientId, document, etag),
    // The PUT answer carries neither progress nor acknowledgement: read the plan again for those.
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: planKeys.client(clientId) }),
  });
}

export function useAcknowledgePlan(clientId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (version: number) => acknowledgePlan(clientId, version),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: planKeys.client(clientId) }),
  });
}
