import type { paths } from '../../api/schema';

// Named from the generated contract by path, so they follow the backend's schema whatever its component names.
export type Me = paths['/api/v1/me']['get']['responses'][200]['content']['application/json'];
export type Role = Me['role'];
export type Registration = NonNullable<
  paths['/api/v1/auth/register']['post']['requestBody']
>['content']['application/json'];
export type RegistrationRole = Registration['role'];
export type Credentials = NonNullable<
  paths['/api/v1/auth/token']['post']['requestBody']
>['content']['application/x-www-form-urlencoded'];
