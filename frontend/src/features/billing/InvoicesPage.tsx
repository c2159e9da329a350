import type { Stripe, StripeCardElement } from '@stripe/stripe-js';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { randomUuid } from '../../lib/uuid';
import { useMe } from '../auth/useAuth';
import { downloadSuperbill } from './billingApi';
import { CARD_FORM_UNAVAILABLE, CARD_REFUSED, CHARGE_KIND, INVOICE_STATUS, PAYMENT_FAILED, money, posLabel } from './labels';
import { useInvoices, usePayInvoice, usePaymentsConfig, useSettlingInvoice } from './queries';
import { stripeFor } from './stripe';
import type { Invoice } from './types';

const PAYABLE = new Set(['open', 'payment_failed']);

/** The client's invoices: pay by card, and download a superbill for their insurer. */
export function InvoicesPage() {
  const invoices = useInvoices();
  return (
    <>
      <title>Invoices · Hearth</title>
      <h1>Invoices</h1>
      <QueryState isPending={invoices.isPending} error={invoices.error} what="your invoices" />
      {invoices.data && invoices.data.length === 0 && <p>No invoices.</p>}
      {invoices.data && invoices.data.length > 0 && (
        <ul className="link-list" aria-label="Invoices">
          {invoices.data.map((invoice) => (
            <InvoiceItem key={invoice.id} invoice={invoice} />
          ))}
        </ul>
      )}
      <SuperbillSection />
    </>
  );
}

function InvoiceItem({ invoice }: { invoice: Invoice }) {
  const label = `${CHARGE_KIND[invoice.kind] ?? invoice.kind} on ${invoice.service_date}`;
  return (
    <li aria-label={label}>
      <h2>{label}</h2>
      <p>
        {money(invoice.amount)} · <strong>{INVOICE_STATUS[invoice.status] ?? invoice.status}</strong>
      </p>
      {invoice.coding && (
        <p>
          {invoice.coding.procedure ?? 'Not a billable procedure'} · {posLabel(invoice.coding.place_of_service)}
          {invoice.coding.diagnoses.length > 0 && ` · ${invoice.coding.diagnoses.join(', ')}`}
        </p>
      )}
      {PAYABLE.has(invoice.status) && <PayForm invoice={invoice} label={label} />}
    </li>
  );
}

/** Card payments need the server's payment provider: without one, the form says so instead. */
function PayForm({ invoice, label }: { invoice: Invoice; label: string }) {
  const config = usePaymentsConfig();
  if (!config.data) return <QueryState isPending={config.isPending} error={config.error} what="the card form" />;
  const { provider, publishable_key: publishableKey } = config.data;
  if (provider !== 'stripe' || !publishableKey) return <p>Card payments are not set up for this practice.</p>;
  return <CardPayForm invoice={invoice} label={label} publishableKey={publishableKey} />;
}

type Phase = 'idle' | 'paying' | 'authenticating' | 'settling';

/**
 * One try at paying: its Idempotency-Key and the PaymentMethod made for it. A double click or a retry after a lost
 * answer sends the same request again (the server replays the first answer, never charging twice); a refusal,
 * another card or another choice about keeping it starts a new attempt.
 */
interface Attempt {
  key: string;
  paymentMethodId: string | null;
}

function freshAttempt(): Attempt {
  return { key: randomUuid(), paymentMethodId: null };
}

/**
 * Stripe's card form (the card number goes from it to Stripe, never to Hearth): the card becomes a PaymentMethod in
 * the browser, Hearth charges it, and when the bank asks for authentication (3-D Secure) Stripe.js runs it; the
 * provider's webhook then settles the invoice, which is read again until it shows the outcome.
 */
function CardPayForm({ invoice, label, publishableKey }: { invoice: Invoice; label: string; publishableKey: string }) {
  const cardLabelId = useId();
  const mountRef = useRef<HTMLDivElement>(null);
  const [stripe, setStripe] = useState<Stripe | null>(null);
  const [card, setCard] = useState<StripeCardElement | null>(null);
  const [cardError, setCardError] = useState<string | null>(null);
  const [cardComplete, setCardComplete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [keep, setKeep] = useState(false);
  const [phase, setPhase] = useState<Phase>('idle');
  const attempt = useRef<Attempt>(freshAttempt());
  const [settling, setSettling] = useState<string | null>(null);
  const settle = useSettlingInvoice(invoice.id, settling);
  const pay = usePayInvoice();

  useEffect(() => {
    let cancelled = false;
    let element: StripeCardElement | null = null;
    stripeFor(publishableKey).then(
      (loaded) => {
        if (cancelled || !loaded || !mountRef.current) return;
        const created = loaded.elements().create('card');
        created.on('change', (event) => {
          setCardError(event.error?.message ?? null);
          setCardComplete(event.complete);
          attempt.current = freshAttempt();
        });
        created.mount(mountRef.current);
        element = created;
        setStripe(loaded);
        setCard(created);
      },
      () => {
        if (!cancelled) setError(new Error(CARD_FORM_UNAVAILABLE));
      },
    );
    return () => {
      cancelled = true;
      element?.destroy();
    };
  }, [publishableKey]);

  useEffect(() => {
    if (settle.timedOut) setPhase('idle'); // its message stays until the client tries again
    if (!settle.settled || settle.status === 'paid') return; // paid: the refreshed list drops this form
    if (settle.status === 'payment_failed') setError((shown: unknown) => shown ?? new Error(PAYMENT_FAILED));
    attempt.current = freshAttempt();
    setSettling(null);
    setPhase('idle');
  }, [settle.status, settle.settled, settle.timedOut]);

  async function submit(stripe: Stripe, card: StripeCardElement) {
    const current = attempt.current;
    try {
      if (current.paymentMethodId === null) {
        const made = await stripe.createPaymentMethod({ type: 'card', card });
        if (made.error) {
          setError(new Error(made.error.message ?? CARD_REFUSED));
          setPhase('idle');
          return;
        }
        current.paymentMethodId = made.paymentMethod.id;
      }
      const payment = await pay.mutateAsync({
        invoiceId: invoice.id,
        paymentMethodId: current.paymentMethodId,
        saveForFees: keep,
        key: current.key,
      });
      if (!payment.requires_action || !payment.client_secret) {
        setPhase('idle'); // paid (or processing): the refreshed list shows it and drops this form
        return;
      }
      setPhase('authenticating');
      const next = await stripe.handleNextAction({ clientSecret: payment.client_secret });
      if (next.error) setError(new Error(next.error.message ?? PAYMENT_FAILED));
      // Authenticated or not, the provider's webhook settles the invoice (paid, or failed and payable again).
      setSettling(current.key);
      setPhase('settling');
    } catch (failure) {
      // A refusal (declined, already paid ...) ends the attempt; a lost answer keeps it, so a retry replays it.
      if (failure instanceof ApiError) attempt.current = freshAttempt();
      setError(failure);
      setPhase('idle');
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!stripe || !card || !cardComplete || phase !== 'idle') return;
    setError(null);
    setSettling(null);
    setPhase('paying');
    void submit(stripe, card);
  }

  const shownError = error ?? (cardError ? new Error(cardError) : null);
  return (
    <form onSubmit={onSubmit} aria-label={`Pay ${label}`}>
      <div className="field">
        <label id={cardLabelId} onClick={() => card?.focus()}>
          Card
        </label>
        <div ref={mountRef} className="card-element" role="group" aria-labelledby={cardLabelId} />
      </div>
      <label className="choice">
        <input
          type="checkbox"
          name="save_for_fees"
          checked={keep}
          onChange={(e) => {
            setKeep(e.target.checked);
            attempt.current = { ...attempt.current, key: randomUuid() };
          }}
        />{' '}
        Keep this card for late-cancellation and no-show fees
      </label>
      <ErrorAlert error={shownError} />
      <StatusMessage>
        {phase === 'authenticating' && <p>Your bank asks you to confirm this payment.</p>}
        {phase === 'settling' && <p>Waiting for the payment to be confirmed…</p>}
        {settle.timedOut && <p>The payment is still being confirmed. Reload this page later to see it.</p>}
      </StatusMessage>
      <button type="submit" disabled={!card || !cardComplete || phase !== 'idle'}>
        {phase === 'idle' ? `Pay ${money(invoice.amount)}` : 'Paying…'}
      </button>
    </form>
  );
}

function SuperbillSection() {
  const me = useMe().data;
  const year = new Date().getFullYear();
  const [from, setFrom] = useState(`${year}-01-01`);
  const [to, setTo] = useState(`${year}-12-31`);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!me) return;
    setError(null);
    setDone(false);
    downloadSuperbill(me.id, from, to).then(() => setDone(true), setError);
  }
  return (
    <form onSubmit={onSubmit} aria-label="Superbill" className="form-section">
      <h2>Superbill</h2>
      <p className="hint">A PDF of your sessions with their codes and what you paid, to claim from your insurer.</p>
      <TextField label="From" name="from" type="date" required value={from} onChange={(e) => setFrom(e.target.value)} />
      <TextField label="To" name="to" type="date" required value={to} onChange={(e) => setTo(e.target.value)} />
      <ErrorAlert error={error} />
      <StatusMessage>{done && <p>Superbill downloaded.</p>}</StatusMessage>
      <button type="submit">Download superbill</button>
    </form>
  );
}
