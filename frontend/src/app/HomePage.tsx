import { Link } from 'react-router';
import { homePathFor } from '../features/auth/homePath';
import { useMe } from '../features/auth/useAuth';

export function HomePage() {
  const me = useMe().data;
  return (
    <>
      <title>Hearth · Remote therapy</title>
      <h1>Therapy from where you are</h1>
      <p>Hearth connects clients and therapists for video, audio, phone and chat sessions.</p>
      {me ? (
        homePathFor(me.role) !== '/' && (
          <p>
            <Link to={homePathFor(me.role)}>Go to your area</Link>
          </p>
        )
      ) : (
        <p>
          <Link to="/register">Create an account</Link> or <Link to="/login">log in</Link>.
        </p>
      )}
    </>
  );
}
