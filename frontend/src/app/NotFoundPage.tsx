import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <>
      <title>Page not found · Hearth</title>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the home page</Link>
      </p>
    </>
  );
}
