// Unit tests' stand-in for undici's client: an UpstreamAnswer fed by hand through the dispatch
// handler calls undici makes, with a controller that records pause, resume and abort.
import type { Dispatcher } from 'undici';
import { UpstreamAnswer } from './upstream-answer.js';

export class RecordingController implements Dispatcher.DispatchController {
  paused = false;
  aborted = false;
  reason: Error | null = null;
  resumes = 0;

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumes++;
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

/** An answer whose request started and whose response started with `status`. */
export function feedAnswer(status = 200, headers: Record<string, string> = {}): FedAnswer {
  const answer = new UpstreamAnswer();
  const controller = new RecordingController();
  answer.onRequestStart(controller);
  answer.onResponseStart(controller, status, headers);
  return {
    answer,
    controller,
    data: (chunk) => answer.onResponseData(controller, Buffer.from(chunk)),
    end: () => answer.onResponseEnd(),
    fail: (error) => answer.onResponseError(controller, error),
  };
}
