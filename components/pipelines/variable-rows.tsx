'use client';
// Rows of name and value (run variables, env variables, secrets) in a fieldset: add a row, remove one.
// Each row's fields are labelled with its position, so a screen reader tells them apart.
import { newKey, type NamedValue } from '../wizard/draft';
import { INPUT } from '../forms';
import { BUTTON } from './styles';

interface VariableRowsProps {
  legend: string;
  rows: NamedValue[];
  onChange: (rows: NamedValue[]) => void;
  valueLabel: string;
  /** `password` for secret values: never shown. */
  valueType?: 'text' | 'password';
  valuePlaceholder?: string;
  description?: string;
}

export function VariableRows({ legend, rows, onChange, valueLabel, valueType = 'text', valuePlaceholder, description }: VariableRowsProps) {
  const update = (key: string, patch: Partial<NamedValue>) => onChange(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium">{legend}</legend>
      {description ? <p className="text-sm text-slate-600 dark:text-slate-400">{description}</p> : null}
      {rows.map((row, index) => (
        <div key={row.key} className="flex flex-wrap items-end gap-2">
          <label className="block min-w-32 flex-1 text-sm">
            Name {index + 1}
            <input value={row.name} onChange={(event) => update(row.key, { name: event.target.value })} className={INPUT} autoComplete="off" />
          </label>
          <label className="block min-w-32 flex-1 text-sm">
            {valueLabel} {index + 1}
            <input
              type={valueType}
              value={row.value}
              placeholder={valuePlaceholder}
              onChange={(event) => update(row.key, { value: event.target.value })}
              className={INPUT}
              autoComplete={valueType === 'password' ? 'new-password' : 'off'}
            />
          </label>
          <button
            type="button"
            onClick={() => onChange(rows.filter((other) => other.key !== row.key))}
            className={BUTTON.secondary}
            aria-label={`Remove ${legend.toLowerCase()} row ${index + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { key: newKey(), name: '', value: '' }])} className={BUTTON.secondary}>
        Add {legend.toLowerCase().replace(/s$/, '')}
      </button>
    </fieldset>
  );
}
