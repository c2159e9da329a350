import { ApiError } from '../api/problem';

function describe(error: unknown): { message: string; fields: ApiError['fieldProblems'] } {
  if (error instanceof ApiError) {
    // The server often repeats a single field's message as the detail; say it once.
    const fields = error.fieldProblems.filter((problem) => problem.message !== error.message);
    return { message: error.message, fields };
  }
  // fetch() rejects with a TypeError when the network or the server is unreachable.
  if (error instanceof TypeError) {
    return { message: 'Hearth could not be reached. Check your connection and try again.', fields: [] };
  }
  if (error instanceof Error) return { message: error.message, fields: [] };
  return { message: 'Something went wrong. Please try again.', fields: [] };
}

/** What went wrong, in the words ErrorAlert would use: for messages that wrap an error in their own sentence. */
export function errorMessage(error: unknown): string {
  return describe(error).message;
}

/**
 * The live region where errors are announced. It stays mounted while empty because screen readers only announce
 * changes to a live region that already exists.
 */
export function ErrorAlert({ error }: { error: unknown }) {
  const content = error ? describe(error) : null;
  return (
    <div className="alert" role="alert" aria-live="assertive" aria-atomic="true">
      {content && (
        <>
          <p>{content.message}</p>
          {content.fields.length > 0 && (
            <ul>
              {content.fields.map(({ field, message }) => (
                <li key={`${field}:${message}`}>{field ? `${field}: ${message}` : message}</li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}
