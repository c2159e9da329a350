import type { CrisisResource } from './types';

function digits(value: string): string {
  return value.replace(/[^\d+]/g, '');
}

/** Crisis lines, with links that call or text them at once on a phone. */
export function CrisisResourceList({ resources }: { resources: CrisisResource[] }) {
  return (
    <ul className="crisis-resources">
      {resources.map((resource) => (
        <li key={resource.name}>
          <p className="crisis-name">
            <strong>{resource.name}</strong>
          </p>
          {resource.description && <p>{resource.description}</p>}
          <p className="actions">
            {resource.phone && (
              <a className="button" href={`tel:${digits(resource.phone)}`}>
                Call {resource.phone}
              </a>
            )}
            {resource.text && (
              <a className="button" href={`sms:${digits(resource.text)}`}>
                Text {resource.text}
              </a>
            )}
            {resource.url && (
              <a className="button secondary" href={resource.url} target="_blank" rel="noreferrer">
                {resource.name} website<span className="visually-hidden"> (opens in a new tab)</span>
              </a>
            )}
          </p>
        </li>
      ))}
    </ul>
  );
}
