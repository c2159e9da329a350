import type { ConnectionStatus } from './types';

export const CONNECTION_LABELS: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  online: 'Connected: new messages appear as they arrive.',
  reconnecting: 'Reconnecting… Messages you write are kept and sent once the connection is back.',
  offline: 'You are offline. Messages you write are kept on this device and sent when you are back online.',
};
