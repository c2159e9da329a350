import type { Template } from './types';

export interface TemplateInfo {
  value: Template;
  label: string;
  fields: { name: string; label: string; hint: string }[];
}

/** The templates and their fields in display order (mirrors domain/notes/model.py TEMPLATE_FIELDS). */
export const TEMPLATES: TemplateInfo[] = [
  {
    value: 'soap',
    label: 'SOAP',
    fields: [
      { name: 'subjective', label: 'Subjective', hint: 'What the client reports: concerns, mood, events since the last session.' },
      { name: 'objective', label: 'Objective', hint: 'What you observed: presentation, affect, scores.' },
      { name: 'assessment', label: 'Assessment', hint: 'Your clinical reading of the session and of progress.' },
      { name: 'plan', label: 'Plan', hint: 'Next steps, homework, the next session.' },
    ],
  },
  {
    value: 'dap',
    label: 'DAP',
    fields: [
      { name: 'data', label: 'Data', hint: 'What the client said and what you observed.' },
      { name: 'assessment', label: 'Assessment', hint: 'Your clinical reading of the session and of progress.' },
      { name: 'plan', label: 'Plan', hint: 'Next steps, homework, the next session.' },
    ],
  },
  {
    value: 'birp',
    label: 'BIRP',
    fields: [
      { name: 'behavior', label: 'Behavior', hint: 'The client’s presentation and what they reported.' },
      { name: 'intervention', label: 'Intervention', hint: 'What you did in the session.' },
      { name: 'response', label: 'Response', hint: 'How the client responded.' },
      { name: 'plan', label: 'Plan', hint: 'Next steps, homework, the next session.' },
    ],
  },
  {
    value: 'free',
    label: 'Free text',
    fields: [{ name: 'text', label: 'Note', hint: 'The session in your own words.' }],
  },
];

export function templateInfo(template: Template): TemplateInfo {
  return TEMPLATES.find((t) => t.value === template) ?? TEMPLATES[0]!;
}
