import type { components } from '../../api/schema';

type Schemas = components['schemas'];

export type IntakeState = Schemas['IntakeStateOut'];
export type DraftAnswers = Schemas['DraftAnswers'];
export type IntakeAnswers = Schemas['IntakeAnswers'];
export type MatchOut = Schemas['MatchOut'];
export type Suggestion = Schemas['SuggestionOut'];
export type MatchMode = NonNullable<Schemas['MatchRequest']['mode']>;
export type QueueItem = Schemas['QueueItem'];
export type BatchOut = Schemas['BatchOut'];
export type TimeToMatch = Schemas['TimeToMatchOut'];
