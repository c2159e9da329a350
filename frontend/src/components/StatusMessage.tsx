import type { ReactNode } from 'react';

/**
 * A polite live region for results ("Saved", "12 free times"). Like ErrorAlert it stays mounted while empty,
 * because screen readers only announce changes to a live region that already exists.
 */
export function StatusMessage({ children, className }: { children?: ReactNode; className?: string }) {
  return (
    <div className={['status', className].filter(Boolean).join(' ')} role="status" aria-live="polite" aria-atomic="true">
      {children}
    </div>
  );
}
