// The shape of a query as a few dozen numbers: its length, how many numbers it holds and how
// large they are, answer options, math and code markers, question words. Within one task these
// say how hard a query is (more steps, bigger numbers, more options) better than which words it
// uses, and trees split on them (heads/trees.ts). Pure and deterministic; the feature list is
// versioned in the artifact, so a change to it is a new version, never a silent one.

export const QUERY_SHAPE_VERSION = 'shape-1';

/** Patterns read at most this many characters; chars and log_chars count the whole query. */
export const SHAPE_SCAN_CHARS = 4096;

export const QUERY_SHAPE_FEATURES = [
  'chars',
  'log_chars',
  'words',
  'lines',
  'nonempty_lines',
  'sentence_ends',
  'digits',
  'numbers',
  'log_max_number',
  'log_sum_numbers',
  'decimal_numbers',
  'distinct_numbers',
  'question_marks',
  'ends_with_question',
  'paren_options',
  'line_options',
  'operators',
  'dollars',
  'backslashes',
  'boxed',
  'frac',
  'percents',
  'code_fences',
  'code_keywords',
  'brackets',
  'assert',
  'starts_write_a_function',
  'starts_write_a_python',
  'uppercase_ratio',
  'non_ascii',
  'mean_word_length',
  'distinct_word_ratio',
  'how_many',
  'negations',
  'math_terms',
  'options_word',
  'answer_word',
  'which',
  'what',
  'clause_punctuation',
  'underscores',
  'double_spaces',
  'triple_quotes',
  'doctest_prompts',
  'starts_with_code',
  'ends_with_period',
  'max_line_chars',
  'long_words',
  'longest_number_digits',
  'leading_whitespace_lines',
] as const;

export const QUERY_SHAPE_DIM = QUERY_SHAPE_FEATURES.length;

const NUMBER = /-?\d+(?:[.,]\d+)*(?:\.\d+)?/g;
const SENTENCE_END = /[.!?](?:\s|$)/g;
const PAREN_OPTION = /\([A-Ea-e]\)/g;
const LINE_OPTION = /^\s*[A-E][.):]/gm;
const CODE_KEYWORD = /\b(?:def|return|import|class|print|for|while)\b/g;
const HOW_MANY = /\b(?:how many|how much)\b/g;
const NEGATION = /\b(?:not|except|never)\b/g;
const MATH_TERM = /\b(?:probability|integer|prime|sum|remainder|triangle|area|polynomial)\b/g;
const WHICH = /\bwhich\b/g;

function count(pattern: RegExp, text: string): number {
  pattern.lastIndex = 0;
  let n = 0;
  while (pattern.exec(text) !== null) n++;
  return n;
}

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Writes the query's shape into `out` (length QUERY_SHAPE_DIM), in QUERY_SHAPE_FEATURES order. */
export function queryShape(query: string, out: Float64Array = new Float64Array(QUERY_SHAPE_DIM)): Float64Array {
  const q = query.length > SHAPE_SCAN_CHARS ? query.slice(0, SHAPE_SCAN_CHARS) : query;
  const low = q.toLowerCase();
  let digits = 0;
  let uppercase = 0;
  let nonAscii = 0;
  let questionMarks = 0;
  let operators = 0;
  let dollars = 0;
  let backslashes = 0;
  let percents = 0;
  let brackets = 0;
  let clause = 0;
  let lines = 1;
  let nonemptyLines = 0;
  let lineHasText = false;
  let underscores = 0;
  let lineStart = 0;
  let maxLine = 0;
  let indented = 0;
  for (let i = 0; i < q.length; i++) {
    const c = q.charCodeAt(i);
    if (c === 10) {
      lines++;
      if (lineHasText) nonemptyLines++;
      lineHasText = false;
      if (i - lineStart > maxLine) maxLine = i - lineStart;
      lineStart = i + 1;
      continue;
    }
    if (i === lineStart && (c === 32 || c === 9)) indented++;
    if (c === 95) underscores++;
    if (c !== 32 && c !== 9 && c !== 13) lineHasText = true;
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) uppercase++;
    else if (c > 127) nonAscii++;
    switch (c) {
      case 63: // ?
        questionMarks++;
        break;
      case 43: // + - * / ^ = < >
      case 45:
      case 42:
      case 47:
      case 94:
      case 61:
      case 60:
      case 62:
        operators++;
        break;
      case 36:
        dollars++;
        break;
      case 92:
        backslashes++;
        break;
      case 37:
        percents++;
        break;
      case 123: // { } [ ] ;
      case 125:
      case 91:
      case 93:
        brackets++;
        break;
      case 59:
        brackets++;
        clause++;
        break;
      case 44: // , :
      case 58:
        clause++;
        break;
    }
  }
  if (lineHasText) nonemptyLines++;
  if (q.length - lineStart > maxLine) maxLine = q.length - lineStart;

  let words = 0;
  let longWords = 0;
  let wordChars = 0;
  const distinct = new Set<string>();
  for (const word of low.split(/\s+/)) {
    if (word === '') continue;
    words++;
    wordChars += word.length;
    if (word.length > 10) longWords++;
    distinct.add(word);
  }

  let numbers = 0;
  let decimals = 0;
  let maxNumber = 0;
  let sumNumbers = 0;
  let longestNumber = 0;
  const distinctNumbers = new Set<string>();
  NUMBER.lastIndex = 0;
  for (let m = NUMBER.exec(q); m !== null; m = NUMBER.exec(q)) {
    const text = m[0];
    numbers++;
    distinctNumbers.add(text);
    if (text.includes('.')) decimals++;
    if (text.length > longestNumber) longestNumber = text.length;
    const value = Math.abs(Number(text.replaceAll(',', '')));
    if (Number.isFinite(value)) {
      if (value > maxNumber) maxNumber = value;
      sumNumbers += value;
    }
  }

  const trimmed = q.trimEnd();
  let i = 0;
  out[i++] = query.length;
  out[i++] = Math.log1p(query.length);
  out[i++] = words;
  out[i++] = lines;
  out[i++] = nonemptyLines;
  out[i++] = count(SENTENCE_END, q);
  out[i++] = digits;
  out[i++] = numbers;
  out[i++] = Math.log1p(maxNumber);
  out[i++] = Math.log1p(sumNumbers);
  out[i++] = decimals;
  out[i++] = distinctNumbers.size;
  out[i++] = questionMarks;
  out[i++] = trimmed.endsWith('?') ? 1 : 0;
  out[i++] = count(PAREN_OPTION, q);
  out[i++] = count(LINE_OPTION, q);
  out[i++] = operators;
  out[i++] = dollars;
  out[i++] = backslashes;
  out[i++] = q.includes('\\boxed') ? 1 : 0;
  out[i++] = q.includes('\\frac') ? 1 : 0;
  out[i++] = percents;
  out[i++] = occurrences(q, '```');
  out[i++] = count(CODE_KEYWORD, q);
  out[i++] = brackets;
  out[i++] = q.includes('assert') ? 1 : 0;
  out[i++] = low.startsWith('write a function') ? 1 : 0;
  out[i++] = low.startsWith('write a python') ? 1 : 0;
  out[i++] = q.length === 0 ? 0 : uppercase / q.length;
  out[i++] = nonAscii;
  out[i++] = words === 0 ? 0 : wordChars / words;
  out[i++] = words === 0 ? 0 : distinct.size / words;
  out[i++] = count(HOW_MANY, low);
  out[i++] = count(NEGATION, low);
  out[i++] = count(MATH_TERM, low);
  out[i++] = low.includes('options') || low.includes('choices') ? 1 : 0;
  out[i++] = low.includes('answer') ? 1 : 0;
  out[i++] = count(WHICH, low);
  out[i++] = occurrences(low, 'what');
  out[i++] = clause;
  out[i++] = underscores;
  out[i++] = occurrences(q, '  ');
  out[i++] = occurrences(q, '"""');
  out[i++] = occurrences(q, '>>>');
  out[i++] = /^\s*(?:def|import|from|class)\b/.test(q) ? 1 : 0;
  out[i++] = trimmed.endsWith('.') ? 1 : 0;
  out[i++] = maxLine;
  out[i++] = longWords;
  out[i++] = longestNumber;
  out[i] = indented;
  return out;
}
