import type { Role } from './types';

/** Where each role lands after signing in. */
export function homePathFor(role: Role): string {
  switch (role) {
    case 'therapist':
      return '/therapist';
    case 'client':
      return '/client';
    case 'practice_admin':
      return '/admin';
    default:
      return '/';
  }
}
