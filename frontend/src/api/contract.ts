// Helpers to name request and response bodies from the generated contract by path, so feature types follow the
// backend's schema whatever its component names are (the same idea as features/scheduling/types.ts).

/** The JSON body of a response or request entry. */
export type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON request body of an operation. */
export type RequestBody<T> = T extends { requestBody?: infer Body } ? Json<NonNullable<Body>> : never;
