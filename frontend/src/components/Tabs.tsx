import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface Tab {
  id: string;
  label: string;
}

/**
 * The WAI-ARIA tabs pattern: one tab stop for the list, arrow keys (and Home/End) move between tabs and select
 * them, Tab moves on into the panel. Only the selected panel is rendered.
 */
export function Tabs({
  label,
  tabs,
  selected,
  onSelect,
  children,
}: {
  label: string;
  tabs: Tab[];
  selected: string;
  onSelect: (id: string) => void;
  children: ReactNode;
}) {
  const list = useRef<HTMLDivElement>(null);
  const index = Math.max(0, tabs.findIndex((t) => t.id === selected));

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    // Move from the tab that has focus, not from `selected`: a second key press can arrive before the selection's
    // re-render (a router navigation here), and counting from the stale selection would skip nothing.
    const focused = tabs.findIndex((t) => `tab-${t.id}` === (event.target as HTMLElement).id);
    const from = focused >= 0 ? focused : index;
    const moves: Record<string, number> = { ArrowRight: from + 1, ArrowLeft: from - 1, Home: 0, End: tabs.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = tabs[(target + tabs.length) % tabs.length]!;
    onSelect(next.id);
    list.current?.querySelector<HTMLButtonElement>(`#tab-${next.id}`)?.focus();
  }

  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} ref={list} onKeyDown={onKeyDown} className="tab-list">
        {tabs.map((tab) => {
          const isSelected = tab.id === tabs[index]!.id;
          return (
            <button
              key={tab.id}
              type="button"
              role="tab"
              id={`tab-${tab.id}`}
              aria-selected={isSelected}
              aria-controls={`panel-${tab.id}`}
              tabIndex={isSelected ? 0 : -1}
              onClick={() => onSelect(tab.id)}
            >
              {tab.label}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`panel-${tabs[index]!.id}`} aria-labelledby={`tab-${tabs[index]!.id}`} tabIndex={0} className="tab-panel">
        {children}
      </div>
    </div>
  );
}
