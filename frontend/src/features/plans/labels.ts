import type { ItemStatus, ProgressRating, ScoreTarget } from './types';

export const ITEM_STATUSES: { value: ItemStatus; label: string }[] = [
  { value: 'not_started', label: 'Not started' },
  { value: 'in_progress', label: 'In progress' },
  { value: 'achieved', label: 'Achieved' },
  { value: 'revised', label: 'Revised' },
  { value: 'discontinued', label: 'Discontinued' },
];

export function itemStatusLabel(status: ItemStatus): string {
  return ITEM_STATUSES.find((s) => s.value === status)?.label ?? status;
}

/**
 * The status moves the server allows (mirrors domain/plans/model.py STATUS_TRANSITIONS). Keeping a status is
 * always allowed; a goal or objective that is new in this version starts as not started or in progress.
 */
const STATUS_TRANSITIONS: Record<ItemStatus, ItemStatus[]> = {
  not_started: ['in_progress', 'achieved', 'revised', 'discontinued'],
  in_progress: ['achieved', 'revised', 'discontinued'],
  revised: ['in_progress', 'achieved', 'discontinued'],
  achieved: ['in_progress', 'revised'],
  discontinued: ['in_progress'],
};

const INITIAL_STATUSES: ItemStatus[] = ['not_started', 'in_progress'];

/** The statuses an item may take in the next version, given its status in the saved one (undefined: new). */
export function allowedStatuses(saved: ItemStatus | undefined): ItemStatus[] {
  const allowed = saved ? [saved, ...STATUS_TRANSITIONS[saved]] : INITIAL_STATUSES;
  return ITEM_STATUSES.map((s) => s.value).filter((s) => allowed.includes(s));
}

/** Open items cannot disappear from the next version: close them (achieved, discontinued) first. */
export function isOpen(status: ItemStatus): boolean {
  return status === 'not_started' || status === 'in_progress' || status === 'revised';
}

export const PROGRESS_RATINGS: { value: ProgressRating; label: string }[] = [
  { value: 'progressing', label: 'Progressing' },
  { value: 'maintained', label: 'Maintained' },
  { value: 'regressed', label: 'Regressed' },
  { value: 'not_addressed', label: 'Not addressed' },
];

export function ratingLabel(rating: ProgressRating): string {
  return PROGRESS_RATINGS.find((r) => r.value === rating)?.label ?? rating;
}

export const COMPARISONS: { value: ScoreTarget['comparison']; label: string }[] = [
  { value: '<', label: 'below' },
  { value: '<=', label: 'at or below' },
  { value: '>', label: 'above' },
  { value: '>=', label: 'at or above' },
];

const INSTRUMENT_NAMES: Record<string, string> = { phq9: 'PHQ-9', gad7: 'GAD-7' };

export function instrumentName(code: string): string {
  return INSTRUMENT_NAMES[code] ?? code.toUpperCase();
}

/** "PHQ-9 total below 10". */
export function describeScoreTarget(target: ScoreTarget): string {
  const comparison = COMPARISONS.find((c) => c.value === target.comparison)?.label ?? target.comparison;
  return `${instrumentName(target.instrument)} total ${comparison} ${target.value}`;
}
