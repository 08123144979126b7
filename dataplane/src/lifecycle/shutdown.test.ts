import { describe, expect, it } from '@jest/globals';
import { GracefulShutdown, StreamRegistry, type ShutdownClock } from './shutdown.js';

/** A clock whose timers fire only when the test advances it. */
function fakeClock(): ShutdownClock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
    },
  };
}

function setup() {
  const clock = fakeClock();
  const calls: string[] = [];
  const shutdown = new GracefulShutdown(
    {
      stopAccepting: () => calls.push(`stopAccepting@${clock.now()}`),
      endStreams: () => calls.push(`endStreams@${clock.now()}`),
      forceClose: () => calls.push(`forceClose@${clock.now()}`),
    },
    clock,
  );
  return { clock, calls, shutdown };
}

const timing = { drainDelayMs: 5000, maxStreamDurationMs: 30_000, endGraceMs: 1000 };

describe('GracefulShutdown', () => {
  it('fails readiness at once and keeps accepting until the drain delay ends', () => {
    const { clock, calls, shutdown } = setup();
    expect(shutdown.shuttingDown).toBe(false);
    void shutdown.begin(timing);
    expect(shutdown.shuttingDown).toBe(true);
    expect(shutdown.closing).toBe(false);
    shutdown.drained(); // idle during the delay: still accepting
    clock.advance(4999);
    expect(calls).toEqual([]);
    clock.advance(1);
    expect(calls).toEqual(['stopAccepting@5000']);
  });

  it('stops as soon as the last connection is gone after the listener closed', async () => {
    const { clock, calls, shutdown } = setup();
    const stopped = shutdown.begin(timing);
    clock.advance(5000);
    expect(shutdown.phase).toBe('draining');
    expect(shutdown.closing).toBe(true);
    clock.advance(7000);
    shutdown.drained();
    await stopped;
    expect(shutdown.phase).toBe('stopped');
    clock.advance(60_000);
    expect(calls).toEqual(['stopAccepting@5000']);
  });

  it('ends open streams at the deadline measured from the start, then force-closes after the grace', () => {
    const { clock, calls, shutdown } = setup();
    void shutdown.begin(timing);
    clock.advance(30_000);
    expect(calls).toEqual(['stopAccepting@5000', 'endStreams@30000']);
    expect(shutdown.phase).toBe('ending');
    clock.advance(1000);
    expect(calls).toEqual(['stopAccepting@5000', 'endStreams@30000', 'forceClose@31000']);
  });

  it('never ends streams before the drain delay is over', () => {
    const { clock, calls, shutdown } = setup();
    void shutdown.begin({ drainDelayMs: 5000, maxStreamDurationMs: 1000, endGraceMs: 100 });
    clock.advance(5000);
    expect(calls).toEqual(['stopAccepting@5000', 'endStreams@5000']);
  });

  it('a second signal skips to the deadline', () => {
    const { clock, calls, shutdown } = setup();
    void shutdown.begin(timing);
    clock.advance(100);
    shutdown.expedite(1000);
    expect(calls).toEqual(['stopAccepting@100', 'endStreams@100']);
  });

  it('begins once', () => {
    const { clock, calls, shutdown } = setup();
    const first = shutdown.begin(timing);
    expect(shutdown.begin(timing)).toBe(first);
    clock.advance(5000);
    expect(calls).toEqual(['stopAccepting@5000']);
  });
});

describe('StreamRegistry', () => {
  it('ends the registered streams and forgets the finished ones', () => {
    const registry = new StreamRegistry();
    const ended: string[] = [];
    const doneA = registry.add({ end: () => ended.push('a') });
    registry.add({ end: () => ended.push('b') });
    expect(registry.size).toBe(2);
    doneA();
    expect(registry.endAll()).toBe(1);
    expect(ended).toEqual(['b']);
  });
});
