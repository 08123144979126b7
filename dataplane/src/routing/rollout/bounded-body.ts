// Reads a download's body whole, refusing to hold more than a size limit: shared by the http(s)
// and S3 artifact downloads.

export class OverLimitError extends Error {}

/** All of `body`; past `maxBytes` calls `stop` (which ends the body) and throws OverLimitError. */
export async function readUpTo(body: AsyncIterable<Uint8Array>, maxBytes: number, stop: () => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      stop();
      throw new OverLimitError(`over the ${maxBytes}-byte limit`);
    }
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks);
}
