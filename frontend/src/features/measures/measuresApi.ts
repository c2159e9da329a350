import { api } from '../../api/client';
import { unwrap } from '../../api/result';
import { allPages } from '../../api/pages';
import type { AssignMeasure, Assignment, Instrument, InstrumentCode, SafetyAlert, Score, SubmitResponse, Submitted, Trend } from './types';

export async function fetchInstruments(): Promise<Instrument[]> {
  return (await unwrap(api.GET('/api/v1/instruments'))).items;
}

export function fetchAssignments(clientId: string): Promise<Assignment[]> {
  return allPages((query) => unwrap(api.GET('/api/v1/clients/{client_id}/measures', { params: { path: { client_id: clientId }, query } })));
}

export function assignMeasure(clientId: string, body: AssignMeasure): Promise<Assignment> {
  return unwrap(api.POST('/api/v1/clients/{client_id}/measures', { params: { path: { client_id: clientId } }, body }));
}

export function endAssignment(assignmentId: string): Promise<Assignment> {
  return unwrap(api.POST('/api/v1/measure-assignments/{assignment_id}/end', { params: { path: { assignment_id: assignmentId } } }));
}

export function submitResponse(assignmentId: string, body: SubmitResponse): Promise<Submitted> {
  return unwrap(
    api.POST('/api/v1/measure-assignments/{assignment_id}/responses', { params: { path: { assignment_id: assignmentId } }, body }),
  );
}

export function fetchScores(clientId: string): Promise<Score[]> {
  return allPages((query) =>
    unwrap(api.GET('/api/v1/clients/{client_id}/measure-responses', { params: { path: { client_id: clientId }, query } })),
  );
}

export function fetchTrend(clientId: string, instrument: InstrumentCode, cutoff: number): Promise<Trend> {
  return unwrap(
    api.GET('/api/v1/clients/{client_id}/measures/{instrument}/trend', {
      params: { path: { client_id: clientId, instrument }, query: { cutoff } },
    }),
  );
}

export function fetchSafetyAlerts(): Promise<SafetyAlert[]> {
  return allPages((query) => unwrap(api.GET('/api/v1/safety-alerts', { params: { query } })));
}

export function acknowledgeSafetyAlert(alertId: string): Promise<SafetyAlert> {
  return unwrap(api.POST('/api/v1/safety-alerts/{alert_id}/acknowledge', { params: { path: { alert_id: alertId } } }));
}
