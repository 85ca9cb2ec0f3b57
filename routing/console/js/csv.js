// Reading the queue's input files (CSV or JSON Lines) and writing the export (CSV).
// The CSV parser follows RFC 4180: quoted fields may hold delimiters, quotes ("") and newlines.

const BOM = "\ufeff";
// A cell starting with one of these is a formula to a spreadsheet; complaint text is untrusted.
const FORMULA_START = /^[=+\-@\t\r]/;

/** The delimiter of the header line: comma, semicolon (Excel in Indonesian) or tab. */
export function detectDelimiter(text) {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === "\n" || char === "\r")) break;
    else if (!quoted && char in counts) counts[char] += 1;
  }
  return Object.entries(counts).reduce((best, entry) => (entry[1] > best[1] ? entry : best), [",", 0])[0];
}

/** Rows of fields; fully empty lines are dropped. */
export function parseCSV(text, delimiter = detectDelimiter(text)) {
  if (text.startsWith(BOM)) text = text.slice(1);
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== "") rows.push(row);
    row = [];
    field = "";
  };
  while (i < text.length) {
    const char = text[i];
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else quoted = false;
      } else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i += 1;
      endRow();
    } else field += char;
    i += 1;
  }
  if (quoted) throw new SyntaxError("unterminated quoted field");
  if (field !== "" || row.length) endRow();
  return rows;
}

function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function uniqueColumns(names) {
  const seen = new Map();
  return names.map((raw, index) => {
    const name = raw.trim() || `column_${index + 1}`;
    const count = (seen.get(name) || 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}_${count}`;
  });
}

/** JSON Lines (or one JSON array of objects) as records. */
export function parseJSONL(text) {
  if (text.startsWith(BOM)) text = text.slice(1);
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    const records = JSON.parse(trimmed);
    if (!records.every((r) => r && typeof r === "object" && !Array.isArray(r))) {
      throw new SyntaxError("the JSON array must hold objects");
    }
    return records;
  }
  const records = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      throw new SyntaxError(`line ${index + 1} is not valid JSON`);
    }
    if (!record || typeof record !== "object" || Array.isArray(record)) {
      throw new SyntaxError(`line ${index + 1} is not a JSON object`);
    }
    records.push(record);
  });
  return records;
}

/** {columns, rows}: rows are objects of strings keyed by column, from a CSV or JSONL text. */
export function readTable(text, fileName = "") {
  const isJson = /\.(jsonl|ndjson|json)$/i.test(fileName) || /^\ufeff?\s*[[{]/.test(text);
  if (isJson) {
    const records = parseJSONL(text);
    const columns = [];
    for (const record of records) for (const name of Object.keys(record)) {
      if (!columns.includes(name)) columns.push(name);
    }
    const rows = records.map((r) => Object.fromEntries(columns.map((c) => [c, cell(r[c])])));
    return { columns, rows };
  }
  const [header = [], ...body] = parseCSV(text);
  const columns = uniqueColumns(header);
  const rows = body.map((fields) => Object.fromEntries(columns.map((c, i) => [c, fields[i] ?? ""])));
  return { columns, rows };
}

function quote(value) {
  let text = cell(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",;\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV text (with a BOM, so spreadsheets read it as UTF-8) of a header and rows. */
export function toCSV(header, rows) {
  return BOM + [header, ...rows].map((fields) => fields.map(quote).join(",")).join("\r\n") + "\r\n";
}
