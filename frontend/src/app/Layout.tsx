import { useEffect, useRef } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { ConnectionProblemNotice } from '../components/ConnectionProblemNotice';
import { SignedInAs } from '../features/auth/SignedInAs';
import { homePathFor } from '../features/auth/homePath';
import { useMe } from '../features/auth/useAuth';

/** Moves focus to the main landmark after client-side navigation, as a full page load would reset it. */
function useFocusMainOnNavigate() {
  const main = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  const shownPath = useRef(pathname);
  useEffect(() => {
    if (shownPath.current === pathname) return; // first load: the browser already starts at the top
    shownPath.current = pathname;
    main.current?.focus();
  }, [pathname]);
  return main;
}

export function Layout() {
  const me = useMe().data;
  const main = useFocusMainOnNavigate();
  const area = me ? homePathFor(me.role) : null;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          Hearth
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Home
              </NavLink>
            </li>
            {area && area !== '/' && (
              <li>
                <NavLink to={area}>My area</NavLink>
              </li>
            )}
            {me === null && (
              <>
                <li>
                  <NavLink to="/login">Log in</NavLink>
                </li>
                <li>
                  <NavLink to="/register">Register</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
        {me && <SignedInAs me={me} />}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <ConnectionProblemNotice />
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>If you are in crisis, call your local emergency number. Hearth is not an emergency service.</p>
      </footer>
    </>
  );
}
