import { formatMoney } from '../scheduling/labels';

export const INVOICE_STATUS: Record<string, string> = {
  draft: 'Draft',
  open: 'Due',
  processing: 'Processing',
  paid: 'Paid',
  payment_failed: 'Payment failed',
  partially_refunded: 'Partly refunded',
  refunded: 'Refunded',
  void: 'Cancelled',
};

export const CHARGE_KIND: Record<string, string> = {
  session: 'Session',
  late_cancellation: 'Late cancellation fee',
  no_show: 'No-show fee',
};

export const PLACE_OF_SERVICE: Record<string, string> = {
  '10': 'POS 10 (home)',
  '02': 'POS 02 (not home)',
};

export function money(value: { amount_minor: number; currency: string }): string {
  return formatMoney(value.amount_minor, value.currency);
}

export function posLabel(code: string): string {
  return PLACE_OF_SERVICE[code] ?? `POS ${code}`;
}

export const CARD_FORM_UNAVAILABLE = 'The card form could not be loaded. Check your connection and reload the page.';
export const CARD_REFUSED = 'This card could not be used. Check it or try another card.';
export const PAYMENT_FAILED = 'Your payment did not go through. Try again or use another card.';

/** "2026-11" for a Date, in the viewer's calendar. */
export function monthOf(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}`;
}
