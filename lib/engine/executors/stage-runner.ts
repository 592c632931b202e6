/**
 * The stage runner, shared by the local and docker executors so both run commands identically: each
 * positional argument is one command, run as `sh -e -c COMMAND` in order; the first non-zero exit ends
 * the stage with that code.
 *
 * On SIGTERM the runner sends SIGTERM once to its whole process group (`kill 0`: every command and
 * their children), waits for the current command to finish its own cleanup, and exits 143 without
 * starting the next command. The command runs in the background + `wait` only because `wait` is
 * interruptible by a trapped signal (a foreground command would delay the trap until it ends). This
 * matters in containers: docker-init (tini) forwards SIGTERM to the runner only.
 */
export const STAGE_RUNNER_SCRIPT = [
  'trap \'if [ -z "$buildit_cancelled" ]; then buildit_cancelled=1; kill -TERM 0 2>/dev/null; fi\' TERM',
  'for buildit_command in "$@"; do',
  '  sh -e -c "$buildit_command" & buildit_pid=$!',
  '  while :; do wait "$buildit_pid"; buildit_rc=$?; kill -0 "$buildit_pid" 2>/dev/null || break; done',
  '  [ -z "$buildit_cancelled" ] || exit 143',
  '  [ "$buildit_rc" -eq 0 ] || exit "$buildit_rc"',
  'done',
].join('\n');
