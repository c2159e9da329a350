import { formatMoney } from '../scheduling/labels';
import type { FeeRule, Policy } from './types';

/** A session's price, when known: a percentage fee is shown as money too. */
export interface Price {
  amount_minor: number;
  currency: string;
}

/** "$90.00", or "50% of the session price ($60.00)"; rounded half-up like the server's fee. */
export function feeText(rule: FeeRule, currency: string, price?: Price): string {
  if (rule.flat_amount_minor != null) return formatMoney(rule.flat_amount_minor, currency);
  const bp = rule.percent_bp ?? 0;
  const share = `${bp / 100}% of the session price`;
  return price ? `${share} (${formatMoney(Math.round((price.amount_minor * bp) / 10_000), price.currency)})` : share;
}

/**
 * The therapist's current cancellation policy in plain words, as the client accepts it by booking. `policy` null:
 * the therapist has published none, so nothing is ever charged for a cancellation or a missed session.
 */
export function PolicyTerms({ policy, currency, price }: { policy: Policy | null; currency: string; price?: Price }) {
  if (!policy) {
    return <p>No fee for cancelling or missing a session.</p>;
  }
  const { window_hours: hours, late_cancellation: late, no_show: noShow } = policy;
  return (
    <ul>
      <li>
        {hours === 0
          ? 'Cancelling before the session starts is free.'
          : `Cancelling at least ${hours} ${hours === 1 ? 'hour' : 'hours'} before the session is free.`}
      </li>
      <li>{late ? `A later cancellation costs ${feeText(late, currency, price)}.` : 'A later cancellation costs nothing.'}</li>
      <li>{noShow ? `Missing the session costs ${feeText(noShow, currency, price)}.` : 'Missing the session costs nothing.'}</li>
      <li className="muted">Version {policy.version} of the policy.</li>
    </ul>
  );
}
