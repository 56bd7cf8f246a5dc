/**
 * Where a benchmark's CPU time goes, read from Linux's /proc: per thread of this process (the
 * main thread, parse workers, and the helper threads V8 and libuv run for GC, compilation and
 * file I/O), and for a server's whole process tree. On a machine with as many busy threads as
 * cores, this says what a faster wall clock would have to take away. Elsewhere it reports
 * nothing (empty maps, null).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

interface StatFields {
  parent: number;
  user: number;
  system: number;
  /** utime + stime: this task's own CPU. */
  own: number;
  /** cutime + cstime: the CPU of its children that have exited and been waited for. */
  reaped: number;
}

/** Fields of a /proc stat line after the command name (which may itself hold spaces). */
function readStat(path: string): StatFields | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile, or not Linux
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const tick = (index: number) => Number(fields[index] ?? 0) / TICKS_PER_SECOND;
  return {
    parent: Number(fields[1]),
    user: tick(11),
    system: tick(12),
    own: tick(11) + tick(12),
    reaped: tick(13) + tick(14),
  };
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
}

export interface ThreadCpu {
  user: number;
  system: number;
}

/** CPU seconds of each live thread of this process, by thread id. */
export function threadCpu(): Map<number, ThreadCpu> {
  const threads = new Map<number, ThreadCpu>();
  for (const tid of entries('/proc/self/task')) {
    const stat = readStat(`/proc/self/task/${tid}/stat`);
    if (stat) threads.set(Number(tid), { user: stat.user, system: stat.system });
  }
  return threads;
}

/** CPU seconds of `rootPid` and every process under it, children already reaped included. */
export function processTreeCpu(rootPid: number): number | null {
  const stats = new Map<number, StatFields>();
  for (const pid of entries('/proc')) {
    const stat = readStat(`/proc/${pid}/stat`);
    if (stat) stats.set(Number(pid), stat);
  }
  if (!stats.has(rootPid)) return null;
  const inTree = (pid: number): boolean => {
    for (let at = pid, hops = 0; at > 1 && hops < 64; hops++) {
      if (at === rootPid) return true;
      at = stats.get(at)?.parent ?? 0;
    }
    return false;
  };
  let total = 0;
  for (const [pid, stat] of stats) if (inTree(pid)) total += stat.own + stat.reaped;
  return total;
}

export interface ThreadSplit {
  main: ThreadCpu;
  /** Threads that started during the measured span: the parse workers a sync starts. */
  started: ThreadCpu;
  /**
   * Threads that lived through it: V8's GC and compiler helpers (nearly all user time) and
   * libuv's pool, which runs the file system calls (nearly all system time).
   */
  helpers: ThreadCpu;
}

/** How the CPU between two `threadCpu` readings splits; a thread that exited in between is lost. */
export function splitThreads(
  before: Map<number, ThreadCpu>,
  after: Map<number, ThreadCpu>,
): ThreadSplit {
  const split: ThreadSplit = {
    main: { user: 0, system: 0 },
    started: { user: 0, system: 0 },
    helpers: { user: 0, system: 0 },
  };
  for (const [tid, now] of after) {
    const earlier = before.get(tid);
    const into =
      tid === process.pid ? split.main : earlier === undefined ? split.started : split.helpers;
    into.user += now.user - (earlier?.user ?? 0);
    into.system += now.system - (earlier?.system ?? 0);
  }
  return split;
}
