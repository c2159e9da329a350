import { api } from '../../api/client';
import { unwrap } from '../../api/result';
import { allPages } from '../../api/pages';
import type { BatchOut, DraftAnswers, IntakeAnswers, IntakeState, MatchMode, MatchOut, QueueItem, TimeToMatch } from './types';

export function fetchIntake(): Promise<IntakeState> {
  return unwrap(api.GET('/api/v1/intake'));
}

export function saveIntakeDraft(step: number, answers: DraftAnswers): Promise<IntakeState> {
  return unwrap(api.PUT('/api/v1/intake', { body: { step, answers } }));
}

export async function submitIntake(answers: IntakeAnswers): Promise<void> {
  await unwrap(api.POST('/api/v1/intake', { body: answers }));
}

/** `transferRecords`: when an automatic assignment switches therapist, the client's consent to move their plan. */
export function requestMatch(mode: MatchMode, transferRecords = false): Promise<MatchOut> {
  return unwrap(api.POST('/api/v1/matches', { body: { mode, transfer_records: transferRecords } }));
}

export function chooseTherapist(matchId: string, therapistId: string, transferRecords: boolean): Promise<MatchOut> {
  return unwrap(
    api.POST('/api/v1/matches/{match_id}/choice', {
      params: { path: { match_id: matchId } },
      body: { therapist_id: therapistId, transfer_records: transferRecords },
    }),
  );
}

/** The whole queue, longest waiting first: the batch screen assigns all of it. */
export function fetchQueue(practiceId: string): Promise<QueueItem[]> {
  return allPages((query) =>
    unwrap(api.GET('/api/v1/practices/{practice_id}/match-queue', { params: { path: { practice_id: practiceId }, query } })),
  );
}

export function previewBatch(practiceId: string): Promise<BatchOut> {
  return unwrap(
    api.POST('/api/v1/practices/{practice_id}/match-queue/preview', { params: { path: { practice_id: practiceId } } }),
  );
}

export function confirmBatch(practiceId: string): Promise<BatchOut> {
  return unwrap(
    api.POST('/api/v1/practices/{practice_id}/match-queue/assignments', {
      params: { path: { practice_id: practiceId } },
    }),
  );
}

export function fetchTimeToMatch(practiceId: string): Promise<TimeToMatch> {
  return unwrap(
    api.GET('/api/v1/practices/{practice_id}/time-to-match', { params: { path: { practice_id: practiceId } } }),
  );
}
