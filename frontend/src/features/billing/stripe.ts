// The `pure` entry adds Stripe's script only when a card form asks for it, not on every page of the SPA.
import type { Stripe } from '@stripe/stripe-js';
import { loadStripe } from '@stripe/stripe-js/pure';

const loaded = new Map<string, Promise<Stripe | null>>();

/**
 * Stripe.js for this publishable key, loaded once from Stripe (the official loader adds the script tag: card numbers
 * go from Stripe's own card form to Stripe, never through Hearth).
 */
export function stripeFor(publishableKey: string): Promise<Stripe | null> {
  let stripe = loaded.get(publishableKey);
  if (!stripe) {
    stripe = loadStripe(publishableKey);
    // A failed load (offline, blocked) may be retried by mounting the form again.
    stripe.catch(() => loaded.delete(publishableKey));
    loaded.set(publishableKey, stripe);
  }
  return stripe;
}
