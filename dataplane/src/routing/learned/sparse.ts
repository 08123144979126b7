// Sparse feature vectors: sorted unique indices with their values.

export interface SparseVector {
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

/** Rows of sparse vectors packed end to end (compressed sparse rows). */
export interface SparseRows {
  readonly dim: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

export function packRows(rows: readonly SparseVector[], dim: number): SparseRows {
  let nnz = 0;
  for (const row of rows) nnz += row.indices.length;
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  rows.forEach((row, r) => {
    indices.set(row.indices, at);
    values.set(row.values, at);
    at += row.indices.length;
    indptr[r + 1] = at;
  });
  return { dim, indptr, indices, values };
}

export function rowCount(rows: SparseRows): number {
  return rows.indptr.length - 1;
}

export function row(rows: SparseRows, r: number): SparseVector {
  const start = rows.indptr[r]!;
  const end = rows.indptr[r + 1]!;
  return { indices: rows.indices.subarray(start, end), values: rows.values.subarray(start, end) };
}

/** Dot product of a sparse vector with a dense row starting at `offset` in `dense`. */
export function dotDense(x: SparseVector, dense: Float32Array | Float64Array, offset = 0): number {
  let sum = 0;
  const { indices, values } = x;
  for (let i = 0; i < indices.length; i++) sum += values[i]! * dense[offset + indices[i]!]!;
  return sum;
}
