import DOMPurify from "dompurify";
import { Marked } from "marked";

// GFM with single line breaks kept (tutors write short lines); no raw HTML survives DOMPurify.
const marked = new Marked({ gfm: true, breaks: true, async: false });

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  // Links from a model open elsewhere and carry no referrer or opener.
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const ALLOWED_TAGS = [
  "p",
  "br",
  "strong",
  "em",
  "del",
  "code",
  "pre",
  "blockquote",
  "ul",
  "ol",
  "li",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "a",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "span",
];

/**
 * Markdown → sanitised HTML. marked does not sanitise, so its output goes through DOMPurify with
 * a short allow-list: no images (a model could make the browser fetch anything), no attributes
 * beyond links' `href` and code blocks' language class, no inline styles or event handlers.
 */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "class", "target", "rel"],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  });
}
