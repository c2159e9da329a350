import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextArea } from '../../components/TextArea';
import { fieldMessage } from '../../api/problem';
import { useAway, useSaveAway, useSaveWelcome, useWelcome } from './queries';

function WelcomeEditor({ initial }: { initial: string }) {
  const save = useSaveWelcome();
  const [template, setTemplate] = useState(initial);
  // A newly saved text (this save's, or another tab's) replaces the box's text only if it had no edits of its own:
  // what the therapist typed while a save was on its way stays.
  const shownInitial = useRef(initial);
  useEffect(() => {
    const previous = shownInitial.current;
    shownInitial.current = initial;
    setTemplate((draft) => (draft === previous ? initial : draft));
  }, [initial]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(template);
  };
  return (
    <form onSubmit={submit} aria-labelledby="welcome-heading">
      <h2 id="welcome-heading">Welcome message</h2>
      <TextArea
        label="Welcome message text"
        name="template"
        rows={8}
        hint="Sent automatically when a client first books you. Say how to reach you, your messaging hours, and what messaging is for and not for (it is not for emergencies). {client} is replaced by the client's first name and {therapist} by your name."
        value={template}
        onChange={(event) => setTemplate(event.target.value)}
        error={fieldMessage(save.error, 'template')}
      />
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save welcome message'}
      </button>
      {/* Only while the box shows what was saved: edits made since are not. */}
      <StatusMessage>{save.isSuccess && !save.isPending && template === initial ? 'Welcome message saved.' : ''}</StatusMessage>
      {save.error && !fieldMessage(save.error, 'template') ? <ErrorAlert error={save.error} /> : null}
    </form>
  );
}

function AwayToggle({ away }: { away: boolean }) {
  const save = useSaveAway();
  // Set in the change handler itself, so the box never flips back while the mutation is being scheduled.
  const [optimistic, setOptimistic] = useState<boolean | null>(null);
  // A change made while a save is on its way, sent once that save is done: saves never race each other.
  const queued = useRef<boolean | null>(null);

  function send(wanted: boolean) {
    save.mutate(wanted, {
      onSettled: () => {
        const next = queued.current;
        queued.current = null;
        if (next !== null && next !== wanted) send(next);
        else setOptimistic(null);
      },
    });
  }

  return (
    <section aria-labelledby="away-heading">
      <h2 id="away-heading">Away</h2>
      <div className="field">
        <label>
          {/* Never disabled while saving: disabling the focused box would drop the keyboard focus to the page. */}
          <input
            type="checkbox"
            checked={optimistic ?? away}
            aria-busy={save.isPending}
            onChange={(event) => {
              const wanted = event.target.checked;
              setOptimistic(wanted);
              if (save.isPending) queued.current = wanted;
              else send(wanted);
            }}
          />{' '}
          I am away from messaging
        </label>
        <p className="hint">While you are away, a client who writes gets one automatic reply saying when you will answer, with crisis resources.</p>
      </div>
      <StatusMessage>{save.isSuccess && !save.isPending ? (away ? 'You are marked away.' : 'You are available.') : ''}</StatusMessage>
      {save.error ? <ErrorAlert error={save.error} /> : null}
    </section>
  );
}

/** The therapist's messaging settings: the welcome message template and the away status. */
export function MessagingSettingsPage() {
  const welcome = useWelcome();
  const away = useAway();
  return (
    <>
      <title>Messaging settings · Hearth</title>
      <p>
        <Link to="/therapist/messages">All conversations</Link>
      </p>
      <h1>Messaging settings</h1>
      <QueryState isPending={away.isPending} error={away.error} what="your away status" />
      {away.data !== undefined && <AwayToggle away={away.data} />}
      <QueryState isPending={welcome.isPending} error={welcome.error} what="your welcome message" />
      {welcome.data !== undefined && <WelcomeEditor initial={welcome.data} />}
    </>
  );
}
