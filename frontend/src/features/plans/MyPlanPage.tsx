import { useQueries, useQuery } from '@tanstack/react-query';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { formatDateTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { fetchConversations } from '../messaging/messagingApi';
import { messagingKeys } from '../messaging/queries';
import { useTherapists } from '../scheduling/queries';
import { fetchPlan, type VersionedPlan } from './plansApi';
import { PlanSummary } from './PlanSummary';
import { planKeys, useAcknowledgePlan, usePlan } from './queries';

/** The client's therapy plan (one per therapist), with their progress, to read and acknowledge. */
export function MyPlanPage() {
  const me = useMe().data;
  const clientId = me?.id;
  // The plan the server returns without a therapist: the one acknowledgements apply to.
  const main = usePlan(clientId);
  // Everyone the client has been in care with: a conversation opens when care starts (a match or a first booking),
  // and the list is complete, unlike a capped page of sessions.
  const conversations = useQuery({ queryKey: messagingKeys.conversations, queryFn: fetchConversations });
  const therapistIds = [...new Set((conversations.data ?? []).map((c) => c.therapist_id))];
  const therapists = useTherapists(therapistIds);
  // A client with several therapists has a plan with each: read the others by therapist.
  const others = useQueries({
    queries:
      therapistIds.length > 1 && clientId
        ? therapistIds.map((id) => ({ queryKey: planKeys.plan(clientId, id), queryFn: () => fetchPlan(clientId, id) }))
        : [],
  });
  const plans: VersionedPlan[] = [];
  if (main.data) plans.push(main.data);
  for (const other of others) {
    if (other.data && !plans.some((p) => p.data.id === other.data!.data.id)) plans.push(other.data);
  }

  return (
    <>
      <title>My plan · Hearth</title>
      <h1>My plan</h1>
      <p>
        The plan you and your therapist agreed on: what you are working on, your goals and how they are going.
      </p>
      <QueryState isPending={main.isPending} error={main.error} what="your plan" />
      {main.isSuccess && plans.length === 0 && <p>Your therapist has not written a plan yet.</p>}
      {clientId &&
        plans.map((plan) => (
          <PlanCard
            key={plan.data.id}
            clientId={clientId}
            plan={plan}
            therapistName={therapists.get(plan.data.therapist_id)?.display_name}
            canAcknowledge={plan.data.id === main.data?.data.id}
          />
        ))}
    </>
  );
}

function PlanCard({
  clientId,
  plan,
  therapistName,
  canAcknowledge,
}: {
  clientId: string;
  plan: VersionedPlan;
  therapistName: string | undefined;
  canAcknowledge: boolean;
}) {
  const zone = useViewerZone();
  const acknowledge = useAcknowledgePlan(clientId);
  const p = plan.data;
  const stale = acknowledge.error instanceof ApiError && acknowledge.error.status === 412;
  return (
    <article aria-labelledby={`plan-${p.id}`} className="plan">
      <h2 id={`plan-${p.id}`}>{therapistName ? `Plan with ${therapistName}` : 'Your plan'}</h2>
      <p className="version-line">
        Version {p.version}, updated {formatDateTime(p.updated_at, zone)}
        {p.acknowledged_at ? ' · you have read it' : ' · please read it and confirm below'}
      </p>
      <PlanSummary document={p.document} progress={p.progress ?? []} headingLevel={3} />
      <section aria-label="Acknowledgement" className="acknowledgement">
        <StatusMessage className="success">
          {p.acknowledged_at && <p>You acknowledged this version on {formatDateTime(p.acknowledged_at, zone)}.</p>}
        </StatusMessage>
        {!p.acknowledged_at &&
          (canAcknowledge ? (
            <>
              <p>Have you read your plan? Please confirm it. Questions? Bring them to your next session.</p>
              {stale ? (
                <div className="alert" role="alert">
                  <p>Your therapist updated the plan while you were reading it. The newest version is shown now: please read it again.</p>
                </div>
              ) : (
                <ErrorAlert error={acknowledge.error} />
              )}
              <button type="button" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate(p.version)}>
                {acknowledge.isPending ? 'Saving…' : `I have read version ${p.version} of my plan`}
              </button>
            </>
          ) : (
            <p className="muted">This plan cannot be acknowledged here yet.</p>
          ))}
      </section>
    </article>
  );
}
