import type { Role } from './types';

/** Where each role lands after signing in. Practice admins get no area yet, so they stay on the home page. */
export function homePathFor(role: Role): string {
  switch (role) {
    case 'therapist':
      return '/therapist';
    case 'client':
      return '/client';
    default:
      return '/';
  }
}
