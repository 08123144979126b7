// V8's allocation-site pretenuring, off for the gateway process (decision 0017). V8 watches which
// object literals' objects survive young-generation collections and, past a threshold, allocates
// them straight in the old generation. A gateway's per-request objects are all short-lived, yet
// under load enough of them are alive at each scavenge that V8 starts tenuring some: those die
// in the old generation, and whatever young objects they point to survive too, until the next
// full collection. Which way a process goes differs from run to run; off, the gateway always
// takes the cheap one. V8 reads the flag at every GC, so it can be turned off once started.
import { setFlagsFromString } from 'node:v8';

export function turnOffPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
