'use client';
import { useRouter } from 'next/navigation';
import { BUTTON } from './styles';

/** "New pipeline": opens the wizard. A button by name (issue 14's accessible names), navigating like a link. */
export function NewPipelineButton() {
  const router = useRouter();
  return (
    <button type="button" onClick={() => router.push('/pipelines/new')} className={BUTTON.primary}>
      New pipeline
    </button>
  );
}
