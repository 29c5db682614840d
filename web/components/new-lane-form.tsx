import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorText, useAction } from './use-action.js';

export function NewLaneForm({ onCreated }: { onCreated(laneId: string): void }) {
  const [label, setLabel] = useState('');
  const [baseRef, setBaseRef] = useState('');
  const [template, setTemplate] = useState('');
  const action = useAction();
  return (
    <form
      class="new-lane"
      aria-label="New lane"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          const lane = await api.createLane({
            ...(label.trim() === '' ? {} : { label: label.trim() }),
            ...(baseRef.trim() === '' ? {} : { baseRef: baseRef.trim() }),
            ...(template.trim() === '' ? {} : { template: template.trim() }),
          });
          setLabel('');
          onCreated(lane.id);
        });
      }}
    >
      <input
        aria-label="Lane label"
        placeholder="label"
        value={label}
        onInput={(e) => setLabel(e.currentTarget.value)}
      />
      <input
        aria-label="Base ref"
        placeholder="base (default HEAD)"
        value={baseRef}
        onInput={(e) => setBaseRef(e.currentTarget.value)}
      />
      <input
        aria-label="Template"
        placeholder="template"
        value={template}
        onInput={(e) => setTemplate(e.currentTarget.value)}
      />
      <button type="submit" class="primary" disabled={action.busy}>
        {action.busy ? 'Creating…' : 'New lane'}
      </button>
      <ErrorText error={action.error} />
    </form>
  );
}
