import { Settings } from 'luxon';

/**
 * FEEL's now() and today() read luxon's clock. A step pins that clock to its `now` while it
 * runs (synchronously, so nothing else can observe it), which keeps evaluation pure and
 * replayable.
 */
export function atInstant<T>(now: Date, run: () => T): T {
  const previous = Settings.now;
  const instant = now.getTime();
  Settings.now = () => instant;
  try {
    return run();
  } finally {
    Settings.now = previous;
  }
}
