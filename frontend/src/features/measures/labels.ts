import type { InstrumentCode, MeasureFrequency } from './types';

export const INSTRUMENT_CODES: InstrumentCode[] = ['phq9', 'gad7'];

export interface Band {
  min: number;
  max: number;
  severity: string;
  label: string;
  /** Fill of the band behind the chart's line: light tints, so the line and its points keep their contrast. */
  fill: string;
}

/**
 * Severity bands of each instrument (mirrors domain/measures/instruments.py: GET /api/v1/instruments does not
 * send them). Each response also carries its own severity, which is what tables show.
 */
export const BANDS: Record<InstrumentCode, Band[]> = {
  phq9: [
    { min: 0, max: 4, severity: 'minimal', label: 'Minimal', fill: '#ecfdf3' },
    { min: 5, max: 9, severity: 'mild', label: 'Mild', fill: '#f6fef9' },
    { min: 10, max: 14, severity: 'moderate', label: 'Moderate', fill: '#fffaeb' },
    { min: 15, max: 19, severity: 'moderately_severe', label: 'Moderately severe', fill: '#fef0c7' },
    { min: 20, max: 27, severity: 'severe', label: 'Severe', fill: '#fee4e2' },
  ],
  gad7: [
    { min: 0, max: 4, severity: 'minimal', label: 'Minimal', fill: '#ecfdf3' },
    { min: 5, max: 9, severity: 'mild', label: 'Mild', fill: '#f6fef9' },
    { min: 10, max: 14, severity: 'moderate', label: 'Moderate', fill: '#fffaeb' },
    { min: 15, max: 21, severity: 'severe', label: 'Severe', fill: '#fee4e2' },
  ],
};

export const MAX_TOTAL: Record<InstrumentCode, number> = { phq9: 27, gad7: 21 };

/** The score at and above which a result is read as clinically significant (both instruments). */
export const CUTOFF = 10;

export function isInstrumentCode(code: string): code is InstrumentCode {
  return (INSTRUMENT_CODES as string[]).includes(code);
}

export function severityLabel(severity: string): string {
  const text = severity.replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const FREQUENCIES: { value: MeasureFrequency; label: string }[] = [
  { value: 'once', label: 'Once' },
  { value: 'before_every_session', label: 'Before every session' },
  { value: 'every_n_days', label: 'Every few days' },
];

export function frequencyText(frequency: string, intervalDays: number | null, leadHours: number | null): string {
  switch (frequency) {
    case 'once':
      return 'once';
    case 'before_every_session':
      return `before every session (${leadHours ?? 48} hours ahead)`;
    case 'every_n_days':
      return intervalDays === 1 ? 'every day' : `every ${intervalDays ?? '?'} days`;
    default:
      return frequency;
  }
}

/** PHQ-9's unscored functional-difficulty answers (the instruments endpoint sends only the question). */
export const DIFFICULTY_OPTIONS = [
  { value: 0, label: 'Not difficult at all' },
  { value: 1, label: 'Somewhat difficult' },
  { value: 2, label: 'Very difficult' },
  { value: 3, label: 'Extremely difficult' },
];

export const FLAG_LABELS: Record<string, string> = {
  suicidal_ideation: 'Item 9 answered above 0 (thoughts of self-harm)',
};
