import { useId, useMemo } from 'react';
import { allTimeZones } from '../lib/time';
import { TextField } from './TextField';

type TimeZoneFieldProps = {
  label?: string;
  name: string;
  hint?: string;
  error?: string;
  value: string;
  onChange: (zone: string) => void;
};

/** An IANA zone typed with suggestions from the browser's zone list. */
export function TimeZoneField({ label = 'Time zone', name, hint, error, value, onChange }: TimeZoneFieldProps) {
  const listId = useId();
  const zones = useMemo(allTimeZones, []);
  return (
    <>
      <TextField
        label={label}
        name={name}
        list={listId}
        hint={hint}
        error={error}
        required
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      <datalist id={listId}>
        {zones.map((zone) => (
          <option key={zone} value={zone} />
        ))}
      </datalist>
    </>
  );
}
