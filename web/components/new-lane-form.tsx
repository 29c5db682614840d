import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { runtimeName } from '../format.js';
import type { RuntimeRef } from '../types.js';
import { ErrorText, useAction } from './use-action.js';

/** A new lane: label, base, template, and, when the server shows several runtimes, on which. */
export function NewLaneForm({
  runtimes,
  onCreated,
}: {
  readonly runtimes: readonly RuntimeRef[];
  onCreated(laneId: string): void;
}) {
  const [runtimeId, setRuntimeId] = useState('');
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
            ...(runtimeId === '' ? {} : { runtimeId }),
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
      {runtimes.length > 1 && (
        <select aria-label="Runtime" value={runtimeId} onChange={(e) => setRuntimeId(e.currentTarget.value)}>
          {runtimes.map((one, index) => (
            <option key={one.id} value={index === 0 ? '' : one.id}>
              {runtimeName(one)}
              {index === 0 ? ' (this one)' : ''}
            </option>
          ))}
        </select>
      )}
      <button type="submit" class="primary" disabled={action.busy}>
        {action.busy ? 'Creating…' : 'New lane'}
      </button>
      <ErrorText error={action.error} />
    </form>
  );
}
