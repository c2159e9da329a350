import { useMe } from './useAuth';

/** The zone times are shown in: the signed-in account's, else the browser's. */
export function useViewerZone(): string {
  return useMe().data?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}
