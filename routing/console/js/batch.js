// Splitting the queue into batch requests the service accepts: at most 1,000 items and
// 1 MiB per request. Smaller chunks than that keep the progress bar moving.

export const MAX_TEXT_CHARS = 20000;
export const MAX_ID_CHARS = 200;
const INVISIBLE = /[\s\u200b\u200c\u200d\u2060\ufeff]/g;
const encoder = new TextEncoder();

/** Why the service would refuse this text, or null: "empty", "too_long" or "nul". */
export function textProblem(text) {
  if (!text || !text.replace(INVISIBLE, "")) return "empty";
  if (text.includes("\u0000")) return "nul";
  if (text.length > MAX_TEXT_CHARS && [...text].length > MAX_TEXT_CHARS) return "too_long";
  return null;
}

/** The request item for a complaint; an id the service would refuse is left out. */
export function batchItem(text, complaintId) {
  const id = complaintId && complaintId.length <= MAX_ID_CHARS && !complaintId.includes("\u0000")
    ? complaintId
    : null;
  return { text, complaint_id: id };
}

/** Consecutive chunks of `entries` ({item, ...}) within `maxItems` and `maxBytes` of JSON. */
export function chunk(entries, { maxItems = 100, maxBytes = 900_000 } = {}) {
  const chunks = [];
  let current = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = encoder.encode(JSON.stringify(entry.item)).length + 1;
    if (current.length && (current.length >= maxItems || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
