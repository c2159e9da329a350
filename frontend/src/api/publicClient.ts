import createClient from 'openapi-fetch';
import type { paths } from './schema';

/** Same origin: the API server serves this SPA, and `vite dev` proxies /api to it. */
export const API_BASE_URL = '';

/**
 * Client for the calls that authenticate by themselves (password form, refresh cookie, registration).
 * It carries no bearer token and never retries, so a failing refresh cannot trigger another refresh.
 */
export const publicClient = createClient<paths>({ baseUrl: API_BASE_URL, credentials: 'same-origin' });
