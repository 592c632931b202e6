// Cron triggers (`on "schedule"`): the elected scheduler (scheduler.ts) and the slot arithmetic (slots.ts).
// The `schedule` job it enqueues is handled by worker/jobs/schedule.ts.
export {
  DEFAULT_CATCH_UP_MS,
  DEFAULT_ELECTION_RETRY_MS,
  DEFAULT_TICK_MS,
  SCHEDULE_JOB_KIND,
  SCHEDULER_LOCK,
  Scheduler,
  scheduleDedupeKey,
  type FiredSlot,
  type ScheduleJobPayload,
  type SchedulerEvents,
  type SchedulerOptions,
  type TickResult,
} from './scheduler';
export { dueSlot, latestSlot, previousSlot, scheduleCrons } from './slots';
