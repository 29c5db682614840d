import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

interface FieldFormProps {
  /** The form's accessible name. */
  readonly name: string;
  /** The field's accessible name. */
  readonly label: string;
  readonly placeholder: string;
  readonly button: string;
  readonly busy: boolean;
  /** An empty field is submitted only when this is set (the action has a default). */
  readonly allowEmpty?: boolean;
  /** Given the trimmed text; the field is cleared once it resolves `true`. */
  onSubmit(text: string): Promise<boolean>;
  /** More controls after the button (another action beside it). */
  readonly children?: ComponentChildren;
}

/** One text field and its button: the shape of most of the dashboard's actions. */
export function FieldForm({ name, label, placeholder, button, busy, allowEmpty, onSubmit, children }: FieldFormProps) {
  const [text, setText] = useState('');
  return (
    <form
      class="inline-form"
      aria-label={name}
      onSubmit={(event) => {
        event.preventDefault();
        const value = text.trim();
        if (value === '' && allowEmpty !== true) return;
        void onSubmit(value).then((clear) => {
          if (clear) setText('');
        });
      }}
    >
      <input
        aria-label={label}
        placeholder={placeholder}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <button type="submit" disabled={busy}>
        {button}
      </button>
      {children}
    </form>
  );
}
