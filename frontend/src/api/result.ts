import { toApiError } from './problem';

/** What every openapi-fetch call resolves to. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful call; throws the server's problem as an ApiError otherwise. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) throw toApiError(error, response);
  return data;
}

/** For calls answered with no body (204): throws the server's problem unless the call succeeded. */
export async function ensureOk(call: Promise<FetchResult<unknown>>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) throw toApiError(error, response);
}

/** A resource with the ETag to send back as If-Match. */
export interface Versioned<T> {
  data: T;
  etag: string;
}

/** The tag of a versioned resource; the server derives it from the version, so fall back to the same rule. */
export function etagOf(response: Response, version: number): string {
  return response.headers.get('ETag') ?? `"v${version}"`;
}

/** The body of a successful call to a versioned resource and its ETag; throws the server's problem otherwise. */
export async function unwrapVersioned<T extends { version: number }>(call: Promise<FetchResult<T>>): Promise<Versioned<T>> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) throw toApiError(error, response);
  return { data, etag: etagOf(response, data.version) };
}

/** Like unwrapVersioned, but a 404 (nothing written yet) resolves to null. */
export async function unwrapVersionedOrNull<T extends { version: number }>(
  call: Promise<FetchResult<T>>,
): Promise<Versioned<T> | null> {
  const { data, error, response } = await call;
  if (response.status === 404) return null;
  if (!response.ok || data === undefined) throw toApiError(error, response);
  return { data, etag: etagOf(response, data.version) };
}
