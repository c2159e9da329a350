import { api } from '../../api/client';
import { ensureOk, unwrap } from '../../api/result';
import type { components } from '../../api/schema';

export type Session = components['schemas']['SessionOut'];
export type CheckInBody = components['schemas']['CheckInBody'];
export type IceServers = components['schemas']['IceServers'];

const path = (id: string) => ({ params: { path: { appointment_id: id } } });

export const fetchSession = (id: string): Promise<Session> =>
  unwrap(api.GET('/api/v1/appointments/{appointment_id}/session', path(id)));

export const checkIn = (id: string, body: CheckInBody): Promise<Session> =>
  unwrap(api.POST('/api/v1/appointments/{appointment_id}/check-in', { ...path(id), body }));

export const admit = (id: string): Promise<Session> =>
  unwrap(api.POST('/api/v1/appointments/{appointment_id}/session/admit', path(id)));

export const setAutoAdmit = (id: string, enabled: boolean): Promise<Session> =>
  unwrap(api.PUT('/api/v1/appointments/{appointment_id}/session/auto-admit', { ...path(id), body: { enabled } }));

export const stepDown = (id: string, modality: 'audio' | 'phone' | 'chat'): Promise<Session> =>
  unwrap(api.POST('/api/v1/appointments/{appointment_id}/session/modality', { ...path(id), body: { modality } }));

export const endSession = (id: string): Promise<Session> =>
  unwrap(api.POST('/api/v1/appointments/{appointment_id}/session/end', path(id)));

export const callClientByPhone = (id: string): Promise<void> =>
  ensureOk(api.POST('/api/v1/appointments/{appointment_id}/session/phone-call', path(id)));

export const fetchIceServers = (id: string): Promise<IceServers> =>
  unwrap(api.GET('/api/v1/appointments/{appointment_id}/ice-servers', path(id)));
