import { api } from '../../api/client';
import { unwrap, unwrapVersioned, unwrapVersionedOrNull, type Versioned } from '../../api/result';
import type { Acknowledgement, Plan, PlanDocument } from './types';

export type VersionedPlan = Versioned<Plan>;

/** The current version of a client's plan, or null when none is written yet (or it is not the caller's). */
export function fetchPlan(clientId: string, therapistId?: string): Promise<VersionedPlan | null> {
  return unwrapVersionedOrNull(
    api.GET('/api/v1/clients/{client_id}/plan', {
      params: { path: { client_id: clientId }, query: therapistId ? { therapist_id: therapistId } : {} },
    }),
  );
}

export function fetchPlanVersion(clientId: string, version: number): Promise<Plan> {
  return unwrap(api.GET('/api/v1/clients/{client_id}/plan/versions/{version}', { params: { path: { client_id: clientId, version } } }));
}

/** Writes the next version; `etag` is '"v0"' to create the plan. A stale tag fails with 412. */
export function savePlan(clientId: string, document: PlanDocument, etag: string): Promise<VersionedPlan> {
  return unwrapVersioned(
    api.PUT('/api/v1/clients/{client_id}/plan', {
      params: { path: { client_id: clientId }, header: { 'if-match': etag } },
      body: document,
    }),
  );
}

export function acknowledgePlan(clientId: string, version: number): Promise<Acknowledgement> {
  return unwrap(api.POST('/api/v1/clients/{client_id}/plan/acknowledgement', { params: { path: { client_id: clientId } }, body: { version } }));
}
