// Where the words behind a suggestion occur in the complaint, as plain-text segments.
// The service returns the words as the citizen wrote them, so matching whole words
// (case-insensitively) finds them again; the caller renders marks with textContent.

// Python's \w (Unicode): letters, marks, digits and the underscore.
const WORD = /[\p{L}\p{M}\p{N}_]+/gu;

/** [{text, mark}] covering `text` in order; `mark` is true for the words in `words`. */
export function highlightSegments(text, words) {
  const wanted = new Set(words.map((word) => word.toLocaleLowerCase()));
  const segments = [];
  let last = 0;
  if (wanted.size === 0) return text ? [{ text, mark: false }] : [];
  for (const match of text.matchAll(WORD)) {
    if (!wanted.has(match[0].toLocaleLowerCase())) continue;
    if (match.index > last) segments.push({ text: text.slice(last, match.index), mark: false });
    segments.push({ text: match[0], mark: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), mark: false });
  return segments;
}
