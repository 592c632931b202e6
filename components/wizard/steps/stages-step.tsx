// Stages: name, image, commands (one per line) and the stages each waits for; add, remove, move up/down.
// Each stage is a fieldset whose legend names it, so its repeated "Stage name", "Image" and "Commands"
// fields stay distinguishable.
import { useId } from 'react';
import { INPUT } from '../../forms';
import { BUTTON } from '../../pipelines/styles';
import { newStage, type StageDraft } from '../draft';
import type { StepProps } from './step-props';
import { TextField } from './fields';

export function StagesStep({ draft, update }: StepProps) {
  const stages = draft.stages;
  const setStages = (next: StageDraft[]) => update({ stages: next });
  const patch = (key: string, change: Partial<StageDraft>) => setStages(stages.map((stage) => (stage.key === key ? { ...stage, ...change } : stage)));
  const move = (index: number, by: -1 | 1) => {
    const next = [...stages];
    [next[index], next[index + by]] = [next[index + by]!, next[index]!];
    setStages(next);
  };
  const remove = (key: string) =>
    setStages(stages.filter((stage) => stage.key !== key).map((stage) => ({ ...stage, needs: stage.needs.filter((need) => need !== key) })));

  return (
    <div className="space-y-4">
      {stages.map((stage, index) => (
        <StageFields
          key={stage.key}
          stage={stage}
          position={index + 1}
          others={stages.filter((other) => other.key !== stage.key)}
          onChange={(change) => patch(stage.key, change)}
          onMoveUp={index > 0 ? () => move(index, -1) : null}
          onMoveDown={index < stages.length - 1 ? () => move(index, 1) : null}
          onRemove={stages.length > 1 ? () => remove(stage.key) : null}
        />
      ))}
      <button type="button" onClick={() => setStages([...stages, newStage(stages.length)])} className={BUTTON.secondary}>
        Add stage
      </button>
    </div>
  );
}

interface StageFieldsProps {
  stage: StageDraft;
  position: number;
  others: StageDraft[];
  onChange: (change: Partial<StageDraft>) => void;
  onMoveUp: (() => void) | null;
  onMoveDown: (() => void) | null;
  onRemove: (() => void) | null;
}

function StageFields({ stage, position, others, onChange, onMoveUp, onMoveDown, onRemove }: StageFieldsProps) {
  const commandsId = useId();
  const title = `Stage ${position}${stage.name ? `: ${stage.name}` : ''}`;
  const which = <span className="sr-only"> {title}</span>;
  const toggleNeed = (key: string, on: boolean) => onChange({ needs: on ? [...stage.needs, key] : stage.needs.filter((need) => need !== key) });
  return (
    <fieldset className="space-y-3 rounded-md border border-slate-200 p-4 dark:border-slate-800">
      <legend className="px-1 text-sm font-semibold">{title}</legend>
      <TextField label="Stage name" value={stage.name} onChange={(name) => onChange({ name })} required hint="Letters, digits, _, - and ." />
      <TextField label="Image" value={stage.image} onChange={(image) => onChange({ image })} placeholder="alpine:3.20" required />
      <div>
        <label htmlFor={commandsId} className="block text-sm font-medium">
          Commands
        </label>
        <textarea
          id={commandsId}
          value={stage.commands}
          onChange={(event) => onChange({ commands: event.target.value })}
          rows={3}
          aria-describedby={`${commandsId}-hint`}
          className={`${INPUT} font-mono`}
        />
        <p id={`${commandsId}-hint`} className="mt-1 text-sm text-slate-600 dark:text-slate-400">
          One command per line, each run with sh -e. ${'{git.branch}'} and the like are filled in per run.
        </p>
      </div>
      {others.length > 0 ? (
        <fieldset>
          <legend className="text-sm font-medium">Waits for</legend>
          <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
            {others.map((other, index) => (
              <label key={other.key} className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  checked={stage.needs.includes(other.key)}
                  onChange={(event) => toggleNeed(other.key, event.target.checked)}
                  className="h-4 w-4"
                />
                {other.name || `unnamed stage ${index + 1}`}
              </label>
            ))}
          </div>
        </fieldset>
      ) : null}
      <div className="flex flex-wrap gap-2">
        {onMoveUp ? (
          <button type="button" onClick={onMoveUp} className={BUTTON.secondary}>
            Move up{which}
          </button>
        ) : null}
        {onMoveDown ? (
          <button type="button" onClick={onMoveDown} className={BUTTON.secondary}>
            Move down{which}
          </button>
        ) : null}
        {onRemove ? (
          <button type="button" onClick={onRemove} className={BUTTON.danger}>
            Remove{which}
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}
