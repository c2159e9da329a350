import { useState, type FormEvent } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { SelectField } from '../../components/SelectField';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { randomUuid } from '../../lib/uuid';
import { useMe } from '../auth/useAuth';
import { downloadSuperbill } from './billingApi';
import { CHARGE_KIND, INVOICE_STATUS, TEST_CARDS, money, posLabel } from './labels';
import { useInvoices, usePayInvoice } from './queries';
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

function PayForm({ invoice, label }: { invoice: Invoice; label: string }) {
  const [card, setCard] = useState(TEST_CARDS[0]!.value);
  const [keep, setKeep] = useState(false);
  // One key per attempt: a double click or a retry after a lost answer replays instead of charging again.
  const [key, setKey] = useState(randomUuid);
  const pay = usePayInvoice();
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    pay.mutate(
      { invoiceId: invoice.id, paymentMethodId: card, saveForFees: keep, key },
      { onError: () => setKey(randomUuid()) },
    );
  }
  return (
    <form onSubmit={onSubmit} aria-label={`Pay ${label}`}>
      <SelectField
        label="Card"
        name="card"
        hint="Test mode: the payment provider's test cards."
        value={card}
        onChange={(e) => setCard(e.target.value)}
        options={TEST_CARDS}
      />
      <label className="choice">
        <input type="checkbox" name="save_for_fees" checked={keep} onChange={(e) => setKeep(e.target.checked)} /> Keep
        this card for late-cancellation and no-show fees
      </label>
      <ErrorAlert error={pay.error} />
      <StatusMessage>{pay.data?.requires_action && <p>Your bank asks you to confirm this payment.</p>}</StatusMessage>
      <button type="submit" disabled={pay.isPending}>
        {pay.isPending ? 'Paying…' : `Pay ${money(invoice.amount)}`}
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
