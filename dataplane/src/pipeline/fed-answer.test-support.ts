// Unit tests' stand-in for undici's client: an UpstreamAnswer fed by hand through the dispatch
// handler calls undici makes, with a controller that records pause, resume and abort.
import type { Dispatcher } from 'undici';
import { UpstreamAnswer } from './upstream-answer.js';

export class RecordingController implements Dispatcher.DispatchController {
  paused = false;
  aborted = false;
  reason: Error | null = null;

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  abort(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
  }
}

export interface FedAnswer {
  answer: UpstreamAnswer;
  controller: RecordingController;
  data(chunk: string): void;
  end(): void;
  fail(error: Error): void;
}

/** An answer whose request started and whose response started (200). */
export function feedAnswer(): FedAnswer {
  const answer = new UpstreamAnswer();
  const controller = new RecordingController();
  answer.onRequestStart(controller);
  answer.onResponseStart(controller, 200, {});
  return {
    answer,
    controller,
    data: (chunk) => answer.onResponseData(controller, Buffer.from(chunk)),
    end: () => answer.onResponseEnd(),
    fail: (error) => answer.onResponseError(controller, error),
  };
}
