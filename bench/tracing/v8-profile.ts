// The shapes of V8 profiles (a .cpuprofile from --cpu-prof, the sampling heap profile of the
// inspector) that the tracing tools read, and one label per call frame for their tables.

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** "function path/of/file.js:line": the last three path parts, package paths from the package on. */
export function frameLabel(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '').split('/').slice(-3).join('/');
  return `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
}
