// Escaping text for the report's markup, once for all of it: report.html and its sections,
// and junit.xml. The five characters that could end a text node or a quoted attribute value;
// `&#39;` rather than `&apos;` because HTML 4 lacks the latter and XML reads both.
const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' };

/** `text` safe inside an HTML or XML element or a quoted attribute value. */
export function escapeMarkup(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ENTITIES[c]!);
}
