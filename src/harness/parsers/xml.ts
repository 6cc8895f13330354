import { XMLParser } from "fast-xml-parser";

/** A plain XML element: tag, attributes, child elements, concatenated text. */
export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: true,
});

type Raw = Record<string, unknown>;

function convert(items: unknown[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const item of items as Raw[]) {
    const tag = Object.keys(item).find((k) => k !== ":@");
    if (!tag || tag === "#text" || tag.startsWith("?") || tag.startsWith("!")) continue;
    const kids = (item[tag] as unknown[]) ?? [];
    const attrs = (item[":@"] as Record<string, string>) ?? {};
    const text = (kids as Raw[])
      .filter((k) => "#text" in k)
      .map((k) => String(k["#text"]))
      .join("");
    out.push({ tag, attrs, children: convert(kids), text });
  }
  return out;
}

/** Parses one XML document into plain nodes; undefined when it is not XML at all. */
export function parseXml(text: string): XmlNode[] | undefined {
  try {
    return convert(parser.parse(text) as unknown[]);
  } catch {
    return undefined;
  }
}

/** Every element with one of `tags`, depth first, under `nodes`. */
export function findAll(nodes: XmlNode[], tags: ReadonlySet<string>): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (ns: XmlNode[]) => {
    for (const n of ns) {
      if (tags.has(n.tag)) out.push(n);
      walk(n.children);
    }
  };
  walk(nodes);
  return out;
}

/**
 * The top-level elements named `roots` found anywhere in `text` (a log may hold several documents,
 * concatenated or between other output), each returned as its own XML string.
 */
export function extractElements(text: string, roots: readonly string[]): string[] {
  const names = roots.join("|");
  const tag = new RegExp(`<(/?)(${names})(?=[\\s>/])[^>]*?(/?)>`, "g");
  const chunks: string[] = [];
  let depth = 0;
  let start = -1;
  let root = "";
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    const [whole, closing, name, selfClosing] = m;
    if (depth === 0) {
      if (closing) continue;
      if (selfClosing) {
        chunks.push(whole);
        continue;
      }
      start = m.index;
      root = name!;
      depth = 1;
      continue;
    }
    if (name !== root) continue;
    if (closing) depth--;
    else if (!selfClosing) depth++;
    if (depth === 0) chunks.push(text.slice(start, m.index + whole.length));
  }
  return chunks;
}
