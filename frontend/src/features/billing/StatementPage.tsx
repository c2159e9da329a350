import { useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { TextField } from '../../components/TextField';
import { downloadStatementsCsv } from './billingApi';
import { money, monthOf } from './labels';
import { useStatements } from './queries';

/** Earnings by month: what was collected, the platform's fee, what is left, and what is still owed. */
export function StatementPage() {
  const now = new Date();
  const [from, setFrom] = useState(monthOf(new Date(now.getFullYear(), now.getMonth() - 2, 1)));
  const [to, setTo] = useState(monthOf(now));
  const statements = useStatements(from, to);
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const plan = statements.data?.platform_fee_plan;
  return (
    <>
      <title>Statement · Hearth</title>
      <h1>Statement</h1>
      <div className="inline-choices">
        <TextField label="From month" name="from" type="month" value={from} onChange={(e) => setFrom(e.target.value)} />
        <TextField label="To month" name="to" type="month" value={to} onChange={(e) => setTo(e.target.value)} />
      </div>
      {plan && (
        <p>
          Platform fee:{' '}
          {plan.mode === 'monthly_subscription' && plan.monthly
            ? `${money(plan.monthly)} a month`
            : `${plan.percent_bp / 100} % of each paid invoice`}
        </p>
      )}
      <QueryState isPending={statements.isPending} error={statements.error} what="your statement" />
      {statements.data && (
        <table aria-label="Statement by month">
          <thead>
            <tr>
              <th scope="col">Month</th>
              <th scope="col">Gross</th>
              <th scope="col">Platform fee</th>
              <th scope="col">Net</th>
              <th scope="col">Outstanding</th>
            </tr>
          </thead>
          <tbody>
            {statements.data.months.map((m) => (
              <tr key={`${m.year}-${m.month}`}>
                <th scope="row">{`${m.year}-${String(m.month).padStart(2, '0')}`}</th>
                <td>{money(m.gross)}</td>
                <td>{money(m.platform_fee)}</td>
                <td>{money(m.net)}</td>
                <td>{money(m.outstanding)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorAlert error={downloadError} />
      <button
        type="button"
        onClick={() => {
          setDownloadError(null);
          downloadStatementsCsv(from, to).catch(setDownloadError);
        }}
      >
        Download CSV
      </button>
    </>
  );
}
