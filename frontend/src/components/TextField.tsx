import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & {
  /** Usually text; may hold a visually hidden part that tells repeated fields apart. */
  label: ReactNode;
  name: string;
  /** Set it to move focus here from elsewhere; otherwise a unique id is generated. */
  id?: string;
  hint?: string;
  /** The server's message for this field, shown under it and linked for assistive technology. */
  error?: string;
};

/** A labelled input with its hint and error tied to it by aria-describedby. */
export function TextField({ label, hint, error, id: givenId, ...input }: TextFieldProps) {
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
      <input id={id} aria-describedby={describedBy} aria-invalid={error ? true : undefined} {...input} />
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  );
}
