import { describe, expect, it } from '@jest/globals';
import { QUERY_SHAPE_DIM, QUERY_SHAPE_FEATURES, SHAPE_SCAN_CHARS, queryShape } from './query-shape.js';

function shapeOf(query: string): Record<string, number> {
  const x = queryShape(query);
  return Object.fromEntries(QUERY_SHAPE_FEATURES.map((name, i) => [name, x[i]!]));
}

describe('query shape', () => {
  it('counts the length, numbers, options and markers of a multiple-choice math question', () => {
    const s = shapeOf('What is 12.5% of 1,200?\n(A) 150\n(B) 15.5\n\nWhich answer is right? Not (C).');
    expect(s.chars).toBe(73);
    expect(s.log_chars).toBeCloseTo(Math.log(74));
    expect(s.words).toBe(15);
    expect(s.lines).toBe(5);
    expect(s.nonempty_lines).toBe(4);
    expect(s.numbers).toBe(4); // 12.5, 1,200, 150, 15.5
    expect(s.distinct_numbers).toBe(4);
    expect(s.decimal_numbers).toBe(2);
    expect(s.log_max_number).toBeCloseTo(Math.log1p(1200));
    expect(s.log_sum_numbers).toBeCloseTo(Math.log1p(12.5 + 1200 + 150 + 15.5));
    expect(s.digits).toBe(13);
    expect(s.paren_options).toBe(3);
    expect(s.line_options).toBe(0);
    expect(s.percents).toBe(1);
    expect(s.question_marks).toBe(2);
    expect(s.ends_with_question).toBe(0);
    expect(s.which).toBe(1);
    expect(s.what).toBe(1);
    expect(s.answer_word).toBe(1);
    expect(s.negations).toBe(1);
    expect(s.sentence_ends).toBe(3);
    expect(s.clause_punctuation).toBe(1);
    expect(s.ends_with_period).toBe(1);
    expect(s.max_line_chars).toBe(31); // "Which answer is right? Not (C)."
    expect(s.longest_number_digits).toBe(5); // "1,200"
  });

  it('sees code: fences, keywords, brackets, assert and the "write a function" opening', () => {
    const s = shapeOf('Write a function to add.\n```python\ndef add(a, b):\n    return a + b\nassert add(1, 2) == 3\n```');
    expect(s.code_fences).toBe(2);
    expect(s.code_keywords).toBe(2);
    expect(s.assert).toBe(1);
    expect(s.starts_write_a_function).toBe(1);
    expect(s.starts_write_a_python).toBe(0);
    expect(s.operators).toBe(3); // + = =
    expect(s.brackets).toBe(0);
    expect(s.leading_whitespace_lines).toBe(1);
    expect(s.starts_with_code).toBe(0);
    expect(shapeOf('\ndef f(x):\n    """Return x.\n    >>> f(1)\n    1\n    """\n').starts_with_code).toBe(1);
    expect(shapeOf('def f(x):\n    """Return x.\n    >>> f(1)\n    """').triple_quotes).toBe(2);
    expect(shapeOf('def f(x):\n    >>> f(1)\n    >>> f(2)').doctest_prompts).toBe(2);
  });

  it('sees cloze blanks, double spaces and long words', () => {
    const s = shapeOf('Scientists  found  _  in Mars, extraordinarily.');
    expect(s.underscores).toBe(1);
    expect(s.double_spaces).toBe(3);
    expect(s.long_words).toBe(1); // words of more than 10 characters: "extraordinarily." ("scientists" has 10)
  });

  it('sees LaTeX and line-start options', () => {
    const s = shapeOf('Compute $\\frac{1}{2}$ and put it in \\boxed{}.\nA. 1\nB) 2');
    expect(s.frac).toBe(1);
    expect(s.boxed).toBe(1);
    expect(s.dollars).toBe(2);
    expect(s.backslashes).toBe(2);
    expect(s.brackets).toBe(6);
    expect(s.line_options).toBe(2);
  });

  it('reads patterns in the first SHAPE_SCAN_CHARS characters but counts the whole length', () => {
    const s = shapeOf(`${'a '.repeat(SHAPE_SCAN_CHARS / 2)}42 why?`);
    expect(s.chars).toBe(SHAPE_SCAN_CHARS + 7);
    expect(s.numbers).toBe(0);
    expect(s.question_marks).toBe(0);
  });

  it('gives an empty query zeros, not NaN, and writes every slot of a given buffer', () => {
    const out = new Float64Array(QUERY_SHAPE_DIM).fill(Number.NaN);
    expect(queryShape('', out)).toBe(out);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
    expect(shapeOf('').lines).toBe(1);
    expect(shapeOf('').mean_word_length).toBe(0);
  });

  it('counts upper case and non-ASCII characters', () => {
    const s = shapeOf('ABcd é');
    expect(s.uppercase_ratio).toBeCloseTo(2 / 6);
    expect(s.non_ascii).toBe(1);
    expect(s.distinct_word_ratio).toBe(1);
  });
});
