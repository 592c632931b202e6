'use client';
// A member's role and removal, the same for organization and tenant members.
import { INPUT, SECONDARY_BUTTON } from '../forms';
import { confirmed } from './mutation';

export interface MemberControlsProps {
  role: string;
  roles: readonly string[];
  /** Accessible name of the role select, e.g. "Role of a@b.c". */
  roleLabel: string;
  onRole: (role: string) => void;
  /** Accessible name of the remove button. */
  removeLabel: string;
  /** Asked before removing. */
  removeQuestion: string;
  onRemove: () => void;
  pending: boolean;
}

export function MemberControls({ role, roles, roleLabel, onRole, removeLabel, removeQuestion, onRemove, pending }: MemberControlsProps) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label className="text-sm">
        <span className="sr-only">{roleLabel}</span>
        <select value={role} disabled={pending} onChange={(event) => onRole(event.target.value)} className={`${INPUT} mt-0 w-auto`}>
          {roles.map((candidate) => (
            <option key={candidate} value={candidate}>
              {candidate}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        aria-label={removeLabel}
        disabled={pending}
        onClick={() => confirmed(removeQuestion) && onRemove()}
        className={`${SECONDARY_BUTTON} sm:w-auto`}
      >
        Remove
      </button>
    </div>
  );
}
