import type { ComponentChildren } from 'preact';

export interface Tab {
  readonly id: string;
  readonly title: string;
}

interface TabsProps {
  readonly label: string;
  readonly tabs: readonly Tab[];
  readonly selected: string | null;
  onSelect(id: string): void;
  readonly children: ComponentChildren;
}

/** A tab list as WAI-ARIA describes it: arrow keys move between the tabs, one tab stop. */
export function Tabs({ label, tabs, selected, onSelect, children }: TabsProps) {
  const onKeyDown = (event: KeyboardEvent) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0 || tabs.length === 0) return;
    event.preventDefault();
    const index = tabs.findIndex((tab) => tab.id === selected);
    const next = tabs[(index + step + tabs.length) % tabs.length] as Tab;
    onSelect(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return (
    <div class="tabs">
      <div role="tablist" aria-label={label} onKeyDown={onKeyDown}>
        {tabs.map((tab) => (
          <button
            type="button"
            role="tab"
            key={tab.id}
            id={`tab-${tab.id}`}
            aria-selected={tab.id === selected}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            onClick={() => onSelect(tab.id)}
          >
            {tab.title}
          </button>
        ))}
      </div>
      {selected !== null && (
        <div role="tabpanel" id={`panel-${selected}`} aria-labelledby={`tab-${selected}`} class="tab-panel">
          {children}
        </div>
      )}
    </div>
  );
}
