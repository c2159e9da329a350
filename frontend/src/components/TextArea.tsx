import { useId, type TextareaHTMLAttributes, type ReactNode } from 'react';

type TextAreaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'> & {
  /** Usually text; may hold a visually hidden part that tells repeated fields apart. */
  label: ReactNode;
  name: string;
  /** Set it to move focus here from elsewhere; otherwise a unique id is generated. */
  id?: string;
  hint?: string;
  error?: string;
};

/** A labelled textarea with its hint and error tied to it by aria-describedby (the twin of TextField). */
export function TextArea({ label, hint, error, id: givenId, ...textarea }: TextAreaProps) {
  const generatedId = useId();
  const id = givenId ?? generatedId;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      <textarea id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} rows={4} {...textarea} />
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}
