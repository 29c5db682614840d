import type { Activity, LaneView } from './types.js';

/** Every state colour comes with its word (the colour is a hint, never the only sign). */
export function stateClass(state: string): string {
  return `state state-${state.replace(/[^a-z]/g, '')}`;
}

export function activityOf(lane: LaneView): Activity | null {
  const known = lane.ptys.map((pty) => pty.activity).filter((one): one is Activity => one !== null);
  if (known.includes('working')) return 'working';
  if (known.includes('waiting')) return 'waiting';
  return known[0] ?? null;
}

export function lastLineOf(lane: LaneView): string {
  for (const pty of [...lane.ptys].reverse()) if (pty.lastLine !== null) return pty.lastLine;
  return '';
}

export function ageOf(createdAt: number, now: number): string {
  const seconds = Math.max(0, Math.floor((now - createdAt) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function laneName(lane: LaneView): string {
  return lane.label ?? lane.id;
}

/** A runtime as a person tells them apart: its host and its repository's folder. */
export function runtimeName(runtime: { readonly host: string; readonly repo: string }): string {
  const folder = runtime.repo.split('/').filter(Boolean).slice(-2).join('/') || runtime.repo;
  return `${runtime.host} · ${folder}`;
}
