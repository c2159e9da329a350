import { ErrorAlert } from './ErrorAlert';

/** What to show while a page's data loads or when it could not be loaded. */
export function QueryState({ isPending, error, what }: { isPending: boolean; error: unknown; what: string }) {
  if (error) return <ErrorAlert error={error} />;
  if (isPending) return <p role="status">Loading {what}…</p>;
  return null;
}
