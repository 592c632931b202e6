'use client';
// The new-pipeline wizard: seven steps over one draft (kept across reloads by use-draft). Back and Next keep
// everything typed; the step heading takes the focus on each step so a screen reader starts there.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useWorkspace } from '../app/workspace';
import { Loading } from '../app/states';
import { Alert } from '../forms';
import { BUTTON } from '../pipelines/styles';
import { STEPS, type WizardDraft } from './draft';
import { generateKdl } from './kdl';
import { CreateStep } from './steps/create-step';
import { NameStep } from './steps/name-step';
import { RepositoryStep } from './steps/repository-step';
import { ReviewStep } from './steps/review-step';
import { StagesStep } from './steps/stages-step';
import { TriggersStep } from './steps/triggers-step';
import { VariablesStep } from './steps/variables-step';
import { useDraft } from './use-draft';

const LAST = STEPS.length - 1;

/** What keeps a step from going on, or null. */
function blocker(draft: WizardDraft): string | null {
  if (draft.step === 0 && draft.name.trim() === '') return 'Give the pipeline a name.';
  if (draft.step === 0 && !draft.tenantId) return 'Choose a tenant.';
  if (draft.step === 1 && draft.branch.trim() === '') return 'Give the default branch.';
  return null;
}

export function PipelineWizard() {
  const { organization, tenant } = useWorkspace();
  const { draft, update, discard, forget } = useDraft(organization.id, tenant?.id ?? '');
  const heading = useRef<HTMLHeadingElement>(null);
  const step = draft?.step ?? 0;
  // Set when Next was pressed with something missing: the reason shows until the step changes.
  const [triedStep, setTriedStep] = useState<number | null>(null);
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    heading.current?.focus();
  }, [step]);

  if (!tenant) return <p>You need a tenant to create a pipeline in: ask an administrator of your organization.</p>;
  if (!draft) return <Loading what="the draft" />;
  const problem = blocker(draft);
  const next = (event: FormEvent) => {
    event.preventDefault();
    if (problem) {
      setTriedStep(step);
      return;
    }
    // Entering the review freezes nothing: the KDL follows the steps until it is edited there.
    update({ step: Math.min(LAST, step + 1) });
  };
  const kdl = draft.kdl ?? generateKdl(draft);

  return (
    <div className="max-w-5xl space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">New pipeline</h1>
        <button type="button" onClick={discard} className={BUTTON.secondary}>
          Start over
        </button>
      </div>
      <nav aria-label="Wizard steps">
        <ol className="flex flex-wrap gap-2 text-sm">
          {STEPS.map((name, index) => (
            <li
              key={name}
              aria-current={index === step ? 'step' : undefined}
              className={`rounded-full px-3 py-1 ${index === step ? 'bg-blue-700 text-white dark:bg-blue-600' : index < step ? 'bg-blue-50 text-blue-900 dark:bg-blue-950 dark:text-blue-100' : 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300'}`}
            >
              {index + 1}. {name}
            </li>
          ))}
        </ol>
      </nav>
      <form onSubmit={next} noValidate className="space-y-6">
        <h2 ref={heading} tabIndex={-1} className="text-lg font-semibold focus:outline-none">
          Step {step + 1} of {STEPS.length}: {STEPS[step]}
        </h2>
        {step === 0 ? <NameStep draft={draft} update={update} /> : null}
        {step === 1 ? <RepositoryStep draft={draft} update={update} /> : null}
        {step === 2 ? <TriggersStep draft={draft} update={update} /> : null}
        {step === 3 ? <StagesStep draft={draft} update={update} /> : null}
        {step === 4 ? <VariablesStep draft={draft} update={update} /> : null}
        {step === 5 ? <ReviewStep draft={draft} update={update} /> : null}
        {step === 6 ? <CreateStep draft={draft} update={update} kdl={kdl} onCreated={forget} /> : null}
        <Alert error={triedStep === step ? problem : null} />
        <div className="flex gap-2 border-t border-slate-200 pt-4 dark:border-slate-800">
          {step > 0 ? (
            <button type="button" onClick={() => update({ step: step - 1 })} className={BUTTON.secondary}>
              Back
            </button>
          ) : null}
          {step < LAST ? (
            <button type="submit" className={BUTTON.primary}>
              Next
            </button>
          ) : null}
        </div>
      </form>
    </div>
  );
}
