import { useState } from 'react';
import { Link, useLocation } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { formatDateTime } from '../../lib/time';
import { ClientName, useClientNames } from '../clients/clientNames';
import { useTherapistZone } from '../scheduling/queries';
import { instrumentName } from '../plans/labels';
import { useAcknowledgeAlert, useSafetyAlerts } from './queries';
import type { SafetyAlert } from './types';

export const ALERTS_PATH = '/therapist/alerts';

function alertText(alert: SafetyAlert): string {
  // The only alert the server raises today: PHQ-9 item 9 answered above 0.
  return alert.instrument === 'phq9'
    ? `answered item 9 of the PHQ-9 (thoughts of being better off dead or of self-harm) above 0`
    : `gave an answer on the ${instrumentName(alert.instrument)} that needs your attention`;
}

/**
 * Shown above every therapist page while safety alerts are open. The list is polled, so an alert raised while the
 * page is open appears without a reload; the region is an alert, so screen readers announce it when it appears.
 */
export function SafetyAlertsBanner() {
  const alerts = useSafetyAlerts();
  const zone = useTherapistZone();
  const { pathname } = useLocation();
  const open = alerts.data ?? [];
  if (pathname === ALERTS_PATH) return null;
  const newest = open.at(-1);
  return (
    <div className="safety-banner" role="alert" aria-live="assertive">
      {newest && (
        <>
          <p>
            <strong>
              Safety alert: {open.length === 1 ? 'a client needs' : `${open.length} clients need`} your attention.
            </strong>{' '}
            <ClientName id={newest.client_id} /> {alertText(newest)} on {formatDateTime(newest.created_at, zone)}.
          </p>
          <p>
            <Link to={ALERTS_PATH}>Review safety alerts</Link>
          </p>
        </>
      )}
    </div>
  );
}

export function SafetyAlertsPage() {
  const alerts = useSafetyAlerts();
  const acknowledge = useAcknowledgeAlert();
  const zone = useTherapistZone();
  const [message, setMessage] = useState('');
  const open = [...(alerts.data ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const nameOf = useClientNames(open.map((alert) => alert.client_id));
  return (
    <>
      <title>Safety alerts · Hearth</title>
      <h1>Safety alerts</h1>
      <p>
        An alert is raised the moment a client answers PHQ-9 item 9 (thoughts of being better off dead or of
        self-harm) above &ldquo;not at all&rdquo;. The client was shown crisis resources at once. Reach out to them
        following your safety plan, then acknowledge the alert here. This page updates by itself.
      </p>
      <QueryState isPending={alerts.isPending} error={alerts.error} what="safety alerts" />
      <ErrorAlert error={acknowledge.error} />
      <StatusMessage className="success">{message && <p>{message}</p>}</StatusMessage>
      {alerts.data &&
        (open.length === 0 ? (
          <p>No open safety alerts.</p>
        ) : (
          <ul className="cards" aria-label="Open safety alerts">
            {open.map((alert) => (
              <li key={alert.id} className="card safety-card">
                <h2 className="card-title">
                  {nameOf(alert.client_id)}, {formatDateTime(alert.created_at, zone)}
                </h2>
                <p>
                  {nameOf(alert.client_id)} {alertText(alert)}.
                </p>
                <p className="actions">
                  <Link to={`/therapist/clients/${alert.client_id}?tab=measures`}>
                    Open the chart<span className="visually-hidden"> of {nameOf(alert.client_id)}</span>
                  </Link>
                  <button
                    type="button"
                    disabled={acknowledge.isPending}
                    onClick={() =>
                      acknowledge.mutate(alert.id, {
                        onSuccess: () => setMessage(`Alert for ${nameOf(alert.client_id)} acknowledged.`),
                      })
                    }
                  >
                    Acknowledge<span className="visually-hidden"> the alert for {nameOf(alert.client_id)}</span>
                  </button>
                </p>
              </li>
            ))}
          </ul>
        ))}
    </>
  );
}
