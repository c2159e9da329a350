import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { StatusMessage } from '../../components/StatusMessage';
import { createCalendarFeed, revokeCalendarFeed } from '../scheduling/schedulingApi';
import type { CalendarFeed } from '../scheduling/types';

/**
 * The secret iCalendar address for calendar apps. The API cannot show an existing address again (it only creates
 * a new one, which replaces the old), so the address is shown once, right after it is made.
 */
export function CalendarFeedSection() {
  const [feed, setFeed] = useState<CalendarFeed | null>(null);
  const [message, setMessage] = useState('');
  const create = useMutation({
    mutationFn: createCalendarFeed,
    onSuccess: (created) => {
      setFeed(created);
      setMessage('New calendar address created. Any earlier address no longer works.');
    },
  });
  const revoke = useMutation({
    mutationFn: revokeCalendarFeed,
    onSuccess: () => {
      setFeed(null);
      setMessage('Calendar feed turned off. The address no longer works.');
    },
  });

  async function copy() {
    if (!feed) return;
    try {
      await navigator.clipboard.writeText(feed.url);
      setMessage('Address copied.');
    } catch {
      setMessage('Could not copy: select the address and copy it yourself.');
    }
  }

  return (
    <section aria-labelledby="feed-heading" className="form-section">
      <h2 id="feed-heading">Calendar feed</h2>
      <p>
        Subscribe to your sessions from a calendar app (Google Calendar, Apple Calendar, Outlook) with a private
        address. Entries show times only, never names or clinical details. Anyone with the address can read it, so keep
        it to yourself; making a new one turns the old one off.
      </p>
      {feed && (
        <div className="field">
          <label htmlFor="feed-url">Your calendar address</label>
          <input id="feed-url" readOnly value={feed.url} onFocus={(e) => e.target.select()} />
        </div>
      )}
      <ErrorAlert error={create.error ?? revoke.error} />
      <StatusMessage>{message && <p>{message}</p>}</StatusMessage>
      <div className="actions">
        {feed && (
          <button type="button" className="secondary" onClick={() => void copy()}>
            Copy address
          </button>
        )}
        <button
          type="button"
          className="secondary"
          disabled={create.isPending}
          onClick={() => {
            setMessage('');
            create.mutate();
          }}
        >
          {feed ? 'Make a new address' : 'Create a calendar address'}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={revoke.isPending}
          onClick={() => {
            setMessage('');
            revoke.mutate();
          }}
        >
          Turn off the calendar feed
        </button>
      </div>
    </section>
  );
}
