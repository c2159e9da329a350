import { useEffect, useState } from 'react';

/** Moves focus to an element by id once it has rendered (after adding or removing a row of a form). */
export function useFocusAfterRender(): (id: string) => void {
  const [target, setTarget] = useState<string | null>(null);
  useEffect(() => {
    if (!target) return;
    document.getElementById(target)?.focus();
    setTarget(null);
  }, [target]);
  return setTarget;
}
