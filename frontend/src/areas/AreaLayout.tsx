import type { ReactNode } from 'react';
import { NavLink, Outlet } from 'react-router';

export interface AreaLink {
  to: string;
  label: string;
  end?: boolean;
}

/** An area's own navigation above its pages; `banner` shows above it on every page (e.g. safety alerts). */
export function AreaLayout({ label, links, banner }: { label: string; links: AreaLink[]; banner?: ReactNode }) {
  return (
    <>
      {banner}
      <nav aria-label={label} className="area-nav">
        <ul>
          {links.map(({ to, label: text, end }) => (
            <li key={to}>
              <NavLink to={to} end={end}>
                {text}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}
