import { Navigate, Outlet, useLocation } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { homePathFor } from './homePath';
import type { Role } from './types';
import { useMe } from './useAuth';

/** Guards an area: anonymous visitors go to /login (and come back after), other roles go to their own area. */
export function RequireRole({ role }: { role: Role }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <p role="status">Loading your session…</p>;
  if (me.isError) return <ErrorAlert error={me.error} />;
  if (!me.data) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (me.data.role !== role) return <Navigate to={homePathFor(me.data.role)} replace />;
  return <Outlet />;
}
