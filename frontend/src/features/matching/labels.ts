export const STEPS = ['What brings you here', 'How you would like to meet', 'When suits you', 'Where you live and paying', 'Review and consent'];

export const PRIOR_THERAPY: Record<string, string> = {
  never: 'No, this is my first time',
  past: 'Yes, in the past',
  current: 'Yes, I am seeing someone now',
};

export const GENDER: Record<string, string> = {
  no_preference: 'No preference',
  woman: 'A woman',
  man: 'A man',
  non_binary: 'Non-binary',
};

export const MODALITY: Record<string, string> = { video: 'Video', audio: 'Audio', phone: 'Phone', chat: 'Chat' };

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export const OUTCOME: Record<string, string> = {
  assigned: 'Assigned',
  no_fit: 'Nobody fits',
  room_taken: 'No room left this round',
  no_consent: 'No consent',
};
