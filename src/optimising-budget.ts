// How much a function must run before V8 optimises it, for the daemon. V8 decides for a browser
// tab's hot loops; a daemon's code runs once or a few times per job (a submission, a start, a
// stored change), and during its first few hundred jobs V8's optimising compiler took a third of
// the daemon's CPU on threads of its own, on the same two cores as the jobs (`perf`, 500 jobs of
// `true`: 1.6 ms a job of compiles against 3.5 ms of the main thread), most of it for code that
// then ran a few hundred times. With eight times V8's budget, only what runs often is optimised
// (a parser's loop over a megabyte still is, within its first milliseconds).
import { setFlagsFromString } from 'node:v8';

/** V8's own budget in Node 20 (V8 11.3), in bytecodes run: `node --v8-options`. */
const V8_DEFAULT_INTERRUPT_BUDGET = 67_584;
const DAEMON_BUDGET_FACTOR = 8;

/** From now on, functions are optimised after DAEMON_BUDGET_FACTOR times the work V8 would wait for. */
export function optimiseOnlyOftenRunCode(): void {
  setFlagsFromString(`--interrupt-budget=${V8_DEFAULT_INTERRUPT_BUDGET * DAEMON_BUDGET_FACTOR}`);
}
