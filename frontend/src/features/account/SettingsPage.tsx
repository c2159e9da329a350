import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { fieldMessage } from '../../api/problem';
import { unwrap } from '../../api/result';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { TimeZoneField } from '../../components/TimeZoneField';
import type { Me } from '../auth/types';
import { useMe } from '../auth/useAuth';
import { CalendarFeedSection } from './CalendarFeedSection';

type UpdateMe = { display_name: string; timezone: string; phone: string | null };

export function SettingsPage() {
  const me = useMe();
  return (
    <>
      <title>Settings · Hearth</title>
      <h1>Settings</h1>
      <QueryState isPending={me.isPending} error={me.error} what="your account" />
      {me.data && <AccountForm me={me.data} />}
      <CalendarFeedSection />
    </>
  );
}

function AccountForm({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const [displayName, setDisplayName] = useState(me.display_name);
  const [timezone, setTimezone] = useState(me.timezone);
  const [phone, setPhone] = useState(me.phone ?? '');
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (body: UpdateMe) => unwrap(api.PUT('/api/v1/me', { body })),
    onSuccess: (updated) => {
      queryClient.setQueryData(['me'], updated);
      setSaved(true);
    },
  });
  const error = save.error;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    // Phone numbers are stored in E.164: drop the spaces, dashes and brackets people type.
    const cleaned = phone.replace(/[\s().-]/g, '');
    save.mutate({ display_name: displayName.trim(), timezone: timezone.trim(), phone: cleaned || null });
  }

  return (
    <form onSubmit={onSubmit} aria-label="Account settings">
      <TextField
        label="Display name"
        name="display_name"
        autoComplete="name"
        required
        maxLength={100}
        value={displayName}
        onChange={(e) => {
          setDisplayName(e.target.value);
          setSaved(false);
        }}
        error={fieldMessage(error, 'display_name')}
      />
      <TimeZoneField
        name="timezone"
        hint={
          me.role === 'therapist'
            ? 'Appointment times and reminders are shown in this zone, in your calendar too. Your office hours keep their own zone.'
            : 'Appointment times and reminders are shown in this zone.'
        }
        value={timezone}
        onChange={(zone) => {
          setTimezone(zone);
          setSaved(false);
        }}
        error={fieldMessage(error, 'timezone')}
      />
      <TextField
        label="Mobile phone for SMS reminders and phone sessions"
        name="phone"
        type="tel"
        autoComplete="tel"
        hint="International format with country code, e.g. +14155550123. Leave empty for email reminders only. Reminders never include clinical details. For phone sessions Hearth calls this number from the practice's number; the other person never sees yours."
        value={phone}
        onChange={(e) => {
          setPhone(e.target.value);
          setSaved(false);
        }}
        error={fieldMessage(error, 'phone')}
      />
      <ErrorAlert error={error} />
      <StatusMessage>{saved && <p>Settings saved.</p>}</StatusMessage>
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save settings'}
      </button>
    </form>
  );
}
