import { NavLink, Outlet } from 'react-router';

export interface AreaLink {
  to: string;
  label: string;
  end?: boolean;
}

/** An area's own navigation above its pages. */
export function AreaLayout({ label, links }: { label: string; links: AreaLink[] }) {
  return (
    <>
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
