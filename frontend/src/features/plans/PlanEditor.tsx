import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/problem';
import { ErrorAlert, errorMessage } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { SelectField } from '../../components/SelectField';
import { StatusMessage } from '../../components/StatusMessage';
import { TextArea } from '../../components/TextArea';
import { TextField } from '../../components/TextField';
import { formatDateTime } from '../../lib/time';
import { useViewerZone } from '../auth/useViewerZone';
import { useFocusAfterRender } from '../../lib/useFocusAfterRender';
import { randomUuid } from '../../lib/uuid';
import { COMPARISONS, allowedStatuses, instrumentName, isOpen, itemStatusLabel } from './labels';
import { PlanSummary } from './PlanSummary';
import type { VersionedPlan } from './plansApi';
import { usePlan, usePlanVersion, useSavePlan } from './queries';
import type { ItemStatus, PlanDocument, ScoreTarget } from './types';

// ------------------------------------------------------------------------------------------------ the draft

interface ObjectiveDraft {
  id: string;
  text: string;
  status: ItemStatus;
  target_date: string;
  hasScoreTarget: boolean;
  instrument: ScoreTarget['instrument'];
  comparison: ScoreTarget['comparison'];
  value: string;
}

interface GoalDraft {
  id: string;
  text: string;
  status: ItemStatus;
  target_date: string;
  objectives: ObjectiveDraft[];
}

interface Row {
  key: string;
  text: string;
}

interface InterventionDraft extends Row {
  frequency: string;
}

interface Draft {
  problems: Row[];
  goals: GoalDraft[];
  interventions: InterventionDraft[];
  review_date: string;
}

const EMPTY: PlanDocument = { problems: [], goals: [], interventions: [], review_date: null };

function draftOf(document: PlanDocument): Draft {
  return {
    problems: (document.problems ?? []).map((text) => ({ key: randomUuid(), text })),
    goals: (document.goals ?? []).map((goal) => ({
      id: goal.id,
      text: goal.text,
      status: goal.status,
      target_date: goal.target_date ?? '',
      objectives: (goal.objectives ?? []).map((objective) => ({
        id: objective.id,
        text: objective.text,
        status: objective.status,
        target_date: objective.target_date ?? '',
        hasScoreTarget: !!objective.score_target,
        instrument: objective.score_target?.instrument ?? 'phq9',
        comparison: objective.score_target?.comparison ?? '<',
        value: objective.score_target ? String(objective.score_target.value) : '10',
      })),
    })),
    interventions: (document.interventions ?? []).map((i) => ({ key: randomUuid(), text: i.text, frequency: i.frequency ?? '' })),
    review_date: document.review_date ?? '',
  };
}

function documentOf(draft: Draft): PlanDocument {
  return {
    // Empty rows of plain text are dropped; goals and objectives have an identity, so the server judges them.
    problems: draft.problems.map((p) => p.text.trim()).filter(Boolean),
    goals: draft.goals.map((goal) => ({
      id: goal.id,
      text: goal.text.trim(),
      status: goal.status,
      target_date: goal.target_date || null,
      objectives: goal.objectives.map((objective) => ({
        id: objective.id,
        text: objective.text.trim(),
        status: objective.status,
        target_date: objective.target_date || null,
        score_target: objective.hasScoreTarget
          ? { instrument: objective.instrument, comparison: objective.comparison, value: Number(objective.value) }
          : null,
      })),
    })),
    interventions: draft.interventions
      .filter((i) => i.text.trim())
      .map((i) => ({ text: i.text.trim(), frequency: i.frequency.trim() })),
    review_date: draft.review_date || null,
  };
}

/** Saved statuses by goal or objective id: what each may move to, and whether it may be removed. */
function savedStatuses(document: PlanDocument): Map<string, ItemStatus> {
  const statuses = new Map<string, ItemStatus>();
  for (const goal of document.goals ?? []) {
    statuses.set(goal.id, goal.status);
    for (const objective of goal.objectives ?? []) statuses.set(objective.id, objective.status);
  }
  return statuses;
}

function newObjective(): ObjectiveDraft {
  return {
    id: randomUuid(),
    text: '',
    status: 'not_started',
    target_date: '',
    hasScoreTarget: false,
    instrument: 'phq9',
    comparison: '<',
    value: '10',
  };
}

function isStale(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 412 || error.code === 'precondition_failed');
}

function statusOptions(saved: ItemStatus | undefined) {
  return allowedStatuses(saved).map((value) => ({ value, label: itemStatusLabel(value) }));
}

// ------------------------------------------------------------------------------------------------ the tab

/** The therapist's plan editor for one client: every save is a new version, guarded by If-Match. */
export function PlanTab({ clientId }: { clientId: string }) {
  const plan = usePlan(clientId);
  // Bumped when the therapist reloads after a conflict: the form starts again from the server's current plan.
  const [generation, setGeneration] = useState(0);
  // Only a first load that failed has nothing to edit. Once the plan is here, a failed reload in the background
  // (a refocused window, a signed note) is reported beside the form: replacing the form would throw away
  // unsaved edits.
  if (plan.data === undefined) return <QueryState isPending={plan.isPending} error={plan.error} what="the plan" />;
  return (
    <>
      <ErrorAlert error={plan.error ? new ReloadFailed(plan.error) : null} />
      <PlanForm
        key={generation}
        clientId={clientId}
        loaded={plan.data}
        latestVersion={plan.data?.data.version ?? 0}
        onReload={async () => {
          await plan.refetch();
          setGeneration((g) => g + 1);
        }}
      />
    </>
  );
}

/** A background reload that failed, told so: the form below still holds the therapist's edits. */
class ReloadFailed extends Error {
  constructor(cause: unknown) {
    super(
      `The plan could not be reloaded (${errorMessage(cause)}), so the saved version shown may be out of date. Your changes below are kept; saving still refuses to overwrite a newer version.`,
    );
    this.name = 'ReloadFailed';
  }
}

function PlanForm({
  clientId,
  loaded,
  latestVersion,
  onReload,
}: {
  clientId: string;
  loaded: VersionedPlan | null;
  latestVersion: number;
  onReload: () => Promise<void>;
}) {
  const [draft, setDraft] = useState(() => draftOf(loaded?.data.document ?? EMPTY));
  // What the server holds and the tag of that version: statuses move from it, and the save must match it.
  const [base, setBase] = useState(() => ({
    etag: loaded?.etag ?? '"v0"',
    version: loaded?.data.version ?? 0,
    document: loaded?.data.document ?? EMPTY,
  }));
  const [savedMessage, setSavedMessage] = useState('');
  const save = useSavePlan(clientId);
  const focusLater = useFocusAfterRender();
  const saved = savedStatuses(base.document);
  const error = save.error;
  const stale = isStale(error);
  const at = (path: string) => (error instanceof ApiError ? error.messageAt(path) : undefined);

  function change(update: (d: Draft) => Draft) {
    setDraft(update);
    setSavedMessage('');
  }
  const setGoal = (id: string, patch: Partial<GoalDraft>) =>
    change((d) => ({ ...d, goals: d.goals.map((g) => (g.id === id ? { ...g, ...patch } : g)) }));
  const setObjective = (goalId: string, id: string, patch: Partial<ObjectiveDraft>) =>
    change((d) => ({
      ...d,
      goals: d.goals.map((g) =>
        g.id === goalId ? { ...g, objectives: g.objectives.map((o) => (o.id === id ? { ...o, ...patch } : o)) } : g,
      ),
    }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSavedMessage('');
    const document = documentOf(draft);
    save.mutate(
      { document, etag: base.etag },
      {
        onSuccess: (result) => {
          setBase({ etag: result.etag, version: result.data.version, document: result.data.document });
          setSavedMessage(
            result.data.version === base.version
              ? 'Nothing changed: the plan stays at version ' + result.data.version + '.'
              : `Plan saved: version ${result.data.version}.`,
          );
        },
      },
    );
  }

  return (
    <>
      <VersionLine loaded={loaded} baseVersion={base.version} />
      {latestVersion > base.version && !stale && (
        <div className="notice" role="status">
          <p>
            A newer version of this plan (version {latestVersion}) exists, for instance because a questionnaire score
            changed an objective&rsquo;s status. Reload before you edit, or your save will be refused.
          </p>
          <button type="button" className="secondary" onClick={() => void onReload()}>
            Reload plan
          </button>
        </div>
      )}
      <form onSubmit={onSubmit} aria-labelledby="plan-editor-heading" className="plan-editor">
        <h3 id="plan-editor-heading" className="visually-hidden">
          Edit the plan
        </h3>

        <fieldset>
          <legend>Problems and concerns</legend>
          {draft.problems.length === 0 && <p className="muted">None listed.</p>}
          {draft.problems.map((problem, n) => (
            <div key={problem.key} className="row">
              <TextField
                id={`problem-${problem.key}`}
                label={`Problem ${n + 1}`}
                name={`problem-${n}`}
                maxLength={2000}
                value={problem.text}
                error={at(`problems[${n}]`)}
                onChange={(e) =>
                  change((d) => ({ ...d, problems: d.problems.map((p) => (p.key === problem.key ? { ...p, text: e.target.value } : p)) }))
                }
              />
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  change((d) => ({ ...d, problems: d.problems.filter((p) => p.key !== problem.key) }));
                  focusLater('add-problem');
                }}
              >
                Remove<span className="visually-hidden"> problem {n + 1}</span>
              </button>
            </div>
          ))}
          <button
            type="button"
            id="add-problem"
            className="secondary"
            onClick={() => {
              const key = randomUuid();
              change((d) => ({ ...d, problems: [...d.problems, { key, text: '' }] }));
              focusLater(`problem-${key}`);
            }}
          >
            Add a problem
          </button>
        </fieldset>

        <section aria-labelledby="goals-heading" className="form-section">
          <h3 id="goals-heading">Goals</h3>
          {fieldError(at('goals'))}
          {draft.goals.length === 0 && <p className="muted">No goals yet.</p>}
          {draft.goals.map((goal, g) => {
            const number = `${g + 1}`;
            const savedStatus = saved.get(goal.id);
            const removable = !savedStatus || !isOpen(savedStatus);
            return (
              <fieldset key={goal.id} className="goal">
                <legend>Goal {number}</legend>
                <TextArea
                  id={`goal-${goal.id}-text`}
                  label={
                    <>
                      Goal<span className="visually-hidden"> {number}</span>
                    </>
                  }
                  name={`goal-${g}-text`}
                  rows={2}
                  required
                  maxLength={2000}
                  value={goal.text}
                  error={at(`goals[${g}].text`)}
                  onChange={(e) => setGoal(goal.id, { text: e.target.value })}
                />
                <div className="row">
                  <SelectField
                    label={
                      <>
                        Status<span className="visually-hidden"> of goal {number}</span>
                      </>
                    }
                    name={`goal-${g}-status`}
                    options={statusOptions(savedStatus)}
                    value={goal.status}
                    error={at(`goals[${g}].status`)}
                    onChange={(e) => setGoal(goal.id, { status: e.target.value as ItemStatus })}
                  />
                  <TextField
                    type="date"
                    label={
                      <>
                        Target date<span className="visually-hidden"> of goal {number}</span>
                      </>
                    }
                    name={`goal-${g}-target`}
                    value={goal.target_date}
                    error={at(`goals[${g}].target_date`)}
                    onChange={(e) => setGoal(goal.id, { target_date: e.target.value })}
                  />
                </div>

                {goal.objectives.map((objective, o) => {
                  const label = `${number}.${o + 1}`;
                  const path = `goals[${g}].objectives[${o}]`;
                  const savedObjective = saved.get(objective.id);
                  const objectiveRemovable = !savedObjective || !isOpen(savedObjective);
                  return (
                    <fieldset key={objective.id} className="objective">
                      <legend>Objective {label}</legend>
                      <TextField
                        id={`objective-${objective.id}-text`}
                        label={
                          <>
                            Objective<span className="visually-hidden"> {label}</span>
                          </>
                        }
                        name={`objective-${label}-text`}
                        required
                        maxLength={2000}
                        value={objective.text}
                        error={at(`${path}.text`)}
                        onChange={(e) => setObjective(goal.id, objective.id, { text: e.target.value })}
                      />
                      <div className="row">
                        <SelectField
                          label={
                            <>
                              Status<span className="visually-hidden"> of objective {label}</span>
                            </>
                          }
                          name={`objective-${label}-status`}
                          options={statusOptions(savedObjective)}
                          value={objective.status}
                          error={at(`${path}.status`)}
                          onChange={(e) => setObjective(goal.id, objective.id, { status: e.target.value as ItemStatus })}
                        />
                        <TextField
                          type="date"
                          label={
                            <>
                              Target date<span className="visually-hidden"> of objective {label}</span>
                            </>
                          }
                          name={`objective-${label}-target`}
                          required={objective.hasScoreTarget}
                          hint={objective.hasScoreTarget ? 'Required with a score target.' : undefined}
                          value={objective.target_date}
                          error={at(`${path}.target_date`)}
                          onChange={(e) => setObjective(goal.id, objective.id, { target_date: e.target.value })}
                        />
                      </div>
                      <label className="choice">
                        <input
                          type="checkbox"
                          checked={objective.hasScoreTarget}
                          onChange={(e) => setObjective(goal.id, objective.id, { hasScoreTarget: e.target.checked })}
                        />{' '}
                        Measure it with a questionnaire score
                        <span className="visually-hidden"> (objective {label})</span>
                      </label>
                      {objective.hasScoreTarget && (
                        <div className="row" role="group" aria-label={`Score target of objective ${label}`}>
                          <SelectField
                            label="Questionnaire"
                            name={`objective-${label}-instrument`}
                            options={[
                              { value: 'phq9', label: instrumentName('phq9') },
                              { value: 'gad7', label: instrumentName('gad7') },
                            ]}
                            value={objective.instrument}
                            onChange={(e) =>
                              setObjective(goal.id, objective.id, { instrument: e.target.value as ScoreTarget['instrument'] })
                            }
                          />
                          <SelectField
                            label="Total"
                            name={`objective-${label}-comparison`}
                            options={COMPARISONS}
                            value={objective.comparison}
                            onChange={(e) =>
                              setObjective(goal.id, objective.id, { comparison: e.target.value as ScoreTarget['comparison'] })
                            }
                          />
                          <TextField
                            type="number"
                            label="Score"
                            name={`objective-${label}-value`}
                            min={0}
                            max={27}
                            required
                            value={objective.value}
                            error={at(`${path}.score_target.value`)}
                            onChange={(e) => setObjective(goal.id, objective.id, { value: e.target.value })}
                          />
                        </div>
                      )}
                      {objectiveRemovable ? (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => {
                            setGoal(goal.id, { objectives: goal.objectives.filter((x) => x.id !== objective.id) });
                            focusLater(`add-objective-${goal.id}`);
                          }}
                        >
                          Remove objective<span className="visually-hidden"> {label}</span>
                        </button>
                      ) : (
                        <p className="hint">To take this objective out, mark it achieved or discontinued and save first.</p>
                      )}
                    </fieldset>
                  );
                })}
                <div className="actions">
                  <button
                    type="button"
                    id={`add-objective-${goal.id}`}
                    className="secondary"
                    disabled={goal.objectives.length >= 10}
                    onClick={() => {
                      const objective = newObjective();
                      setGoal(goal.id, { objectives: [...goal.objectives, objective] });
                      focusLater(`objective-${objective.id}-text`);
                    }}
                  >
                    Add an objective<span className="visually-hidden"> to goal {number}</span>
                  </button>
                  {removable ? (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        change((d) => ({ ...d, goals: d.goals.filter((x) => x.id !== goal.id) }));
                        focusLater('add-goal');
                      }}
                    >
                      Remove goal<span className="visually-hidden"> {number}</span>
                    </button>
                  ) : (
                    <p className="hint">To take this goal out, mark it achieved or discontinued and save first.</p>
                  )}
                </div>
              </fieldset>
            );
          })}
          <button
            type="button"
            id="add-goal"
            className="secondary"
            disabled={draft.goals.length >= 20}
            onClick={() => {
              const id = randomUuid();
              change((d) => ({ ...d, goals: [...d.goals, { id, text: '', status: 'not_started', target_date: '', objectives: [] }] }));
              focusLater(`goal-${id}-text`);
            }}
          >
            Add a goal
          </button>
        </section>

        <fieldset>
          <legend>Interventions</legend>
          {draft.interventions.length === 0 && <p className="muted">None listed.</p>}
          {draft.interventions.map((intervention, n) => {
            const set = (patch: Partial<InterventionDraft>) =>
              change((d) => ({
                ...d,
                interventions: d.interventions.map((i) => (i.key === intervention.key ? { ...i, ...patch } : i)),
              }));
            return (
              <div key={intervention.key} className="row">
                <TextField
                  id={`intervention-${intervention.key}`}
                  label={`Intervention ${n + 1}`}
                  name={`intervention-${n}`}
                  maxLength={2000}
                  value={intervention.text}
                  error={at(`interventions[${n}].text`)}
                  onChange={(e) => set({ text: e.target.value })}
                />
                <TextField
                  label={
                    <>
                      How often<span className="visually-hidden"> (intervention {n + 1})</span>
                    </>
                  }
                  name={`intervention-${n}-frequency`}
                  maxLength={200}
                  placeholder="e.g. weekly"
                  value={intervention.frequency}
                  error={at(`interventions[${n}].frequency`)}
                  onChange={(e) => set({ frequency: e.target.value })}
                />
                <button
                  type="button"
                  className="secondary"
                  onClick={() => {
                    change((d) => ({ ...d, interventions: d.interventions.filter((i) => i.key !== intervention.key) }));
                    focusLater('add-intervention');
                  }}
                >
                  Remove<span className="visually-hidden"> intervention {n + 1}</span>
                </button>
              </div>
            );
          })}
          <button
            type="button"
            id="add-intervention"
            className="secondary"
            onClick={() => {
              const key = randomUuid();
              change((d) => ({ ...d, interventions: [...d.interventions, { key, text: '', frequency: '' }] }));
              focusLater(`intervention-${key}`);
            }}
          >
            Add an intervention
          </button>
        </fieldset>

        <TextField
          type="date"
          label="Review date"
          name="review_date"
          hint="When you will review this plan with the client."
          value={draft.review_date}
          error={at('review_date')}
          onChange={(e) => change((d) => ({ ...d, review_date: e.target.value }))}
        />

        {stale ? (
          <div className="alert" role="alert">
            <p>
              This plan was changed after you opened it (in another tab, or by a questionnaire score), so your changes
              were <strong>not saved</strong>. Reload the plan to see the current version, then make your changes again.
            </p>
            <button type="button" onClick={() => void onReload()}>
              Reload plan
            </button>
          </div>
        ) : (
          <ErrorAlert error={error} />
        )}
        <StatusMessage className="success">{savedMessage && <p>{savedMessage}</p>}</StatusMessage>
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : base.version === 0 ? 'Create plan' : 'Save plan'}
        </button>
      </form>
      {base.version > 1 && <EarlierVersions clientId={clientId} current={base.version} />}
    </>
  );
}

function fieldError(message: string | undefined) {
  return message ? <p className="field-error">{message}</p> : null;
}

function VersionLine({ loaded, baseVersion }: { loaded: VersionedPlan | null; baseVersion: number }) {
  const zone = useViewerZone();
  if (baseVersion === 0) {
    return <p>This client has no plan yet. Write its first version below.</p>;
  }
  const plan = loaded?.data;
  const sameVersion = plan?.version === baseVersion;
  return (
    <p className="version-line">
      <strong>Version {baseVersion}</strong>
      {sameVersion && plan && <> · saved {formatDateTime(plan.updated_at, zone)}</>}
      {sameVersion && plan && (
        <>
          {' · '}
          {plan.acknowledged_at
            ? `acknowledged by the client on ${formatDateTime(plan.acknowledged_at, zone)}`
            : 'not yet acknowledged by the client'}
        </>
      )}
    </p>
  );
}

function EarlierVersions({ clientId, current }: { clientId: string; current: number }) {
  const [version, setVersion] = useState<number | null>(null);
  const earlier = usePlanVersion(clientId, version);
  const zone = useViewerZone();
  const options = Array.from({ length: current - 1 }, (_, i) => current - 1 - i);
  return (
    <section aria-labelledby="versions-heading" className="form-section">
      <h3 id="versions-heading">Earlier versions</h3>
      <SelectField
        label="Show version"
        name="version"
        options={[{ value: '', label: 'Choose a version' }, ...options.map((n) => ({ value: String(n), label: `Version ${n}` }))]}
        value={version === null ? '' : String(version)}
        onChange={(e) => setVersion(e.target.value ? Number(e.target.value) : null)}
      />
      {version !== null && (
        <div className="earlier-version" aria-live="polite">
          <QueryState isPending={earlier.isPending} error={earlier.error} what={`version ${version}`} />
          {earlier.data && (
            <>
              <p className="muted">
                Version {version}, written {formatDateTime(earlier.data.updated_at, zone)}
              </p>
              <PlanSummary document={earlier.data.document} headingLevel={4} />
            </>
          )}
        </div>
      )}
    </section>
  );
}
