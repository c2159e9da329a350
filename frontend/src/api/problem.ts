/** A field problem from an RFC 9457 body, with the field named by its last path segment. */
export interface FieldProblem {
  field: string;
  /** The whole location inside the body, e.g. `goals[0].objectives[1].target_date`, for nested forms. */
  path: string;
  message: string;
}

/** A failed API call, carrying what the server said in its application/problem+json body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly fieldProblems: FieldProblem[];
  /** The whole problem body, for the fields some codes add (e.g. `late_fee_not_accepted`'s `late_fee`). */
  readonly body: Record<string, unknown>;

  constructor(
    status: number,
    message: string,
    code: string | null,
    fieldProblems: FieldProblem[],
    body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fieldProblems = fieldProblems;
    this.body = body;
  }

  /** The server's message for one form field, if it sent one. */
  messageFor(field: string): string | undefined {
    return this.fieldProblems.find((problem) => problem.field === field)?.message;
  }

  /** The server's message for a nested field by its whole path (`goals[0].text`), if it sent one. */
  messageAt(path: string): string | undefined {
    return this.fieldProblems.find((problem) => problem.path === path)?.message;
  }
}

const LOCATION_ROOTS = new Set(['body', 'query', 'path', 'header']);

/** `['body', 'goals', 0, 'text']` and `['body', 'goals[0].text']` both read as `goals[0].text`. */
function pathOf(segments: string[]): string {
  const rest = LOCATION_ROOTS.has(segments[0] ?? '') ? segments.slice(1) : segments;
  return rest.reduce((path, segment) => {
    if (/^\d+$/.test(segment)) return `${path}[${segment}]`;
    return path ? `${path}.${segment}` : segment;
  }, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function readFieldProblems(errors: unknown): FieldProblem[] {
  if (!Array.isArray(errors)) return [];
  return errors.filter(isRecord).flatMap((item) => {
    // Accept a dotted/array location as well as a plain name: the last segment names the form field.
    const location = item.field ?? item.loc ?? item.pointer ?? '';
    const segments = Array.isArray(location) ? location.map(String) : String(location).split(/[./]/);
    const field = segments.flatMap((segment) => segment.split(/[.\[\]]/)).filter((s) => s && !/^\d+$/.test(s)).at(-1) ?? '';
    const message = item.message ?? item.msg ?? item.detail;
    return typeof message === 'string' ? [{ field, path: pathOf(segments), message }] : [];
  });
}

/**
 * Builds an ApiError from an error body. The body is read defensively: a proxy or a crashed server can answer
 * with something that is not problem+json at all.
 */
export function toApiError(body: unknown, response: Response): ApiError {
  if (!isRecord(body)) {
    return new ApiError(response.status, `The server answered ${response.status} ${response.statusText}`.trim(), null, []);
  }
  const detail = typeof body.detail === 'string' && body.detail ? body.detail : null;
  const title = typeof body.title === 'string' && body.title ? body.title : null;
  const code = typeof body.code === 'string' ? body.code : null;
  const message = detail ?? title ?? `The server answered ${response.status}`;
  return new ApiError(response.status, message, code, readFieldProblems(body.errors), body);
}

/** The server's message for one form field of a failed call, if the error came from the API. */
export function fieldMessage(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.messageFor(field) : undefined;
}
