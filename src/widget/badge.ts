/**
 * Approximate advance widths of Verdana 11px, the shields.io font. The SVG also sets textLength,
 * so the renderer fits the text to these widths whatever font it actually finds.
 */
const NARROW_CHARS = ' abcdefghijklmnopqrstuvwxyz'
const NARROW_WIDTHS = [3.9, 6.7, 6.9, 5.8, 6.9, 6.6, 3.9, 6.9, 7, 3, 3.8, 6.5, 3, 10.7, 7, 6.7, 6.9, 6.9, 4.7, 5.7, 4.3, 7, 6.5, 8.9, 6.5, 6.5, 5.8]
const WIDE_CHAR = 7.5
const PADDING = 10

function textWidth (text: string): number {
  let width = 0
  for (const char of text) width += NARROW_WIDTHS[NARROW_CHARS.indexOf(char)] ?? WIDE_CHAR
  return Math.round(width)
}

function escapeXml (text: string): string {
  return text.replace(/[<>&"]/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** One half of the badge: its text twice (a shadow, then the text), centred, in tenths of a pixel like shields. */
function badgeText (text: string, x: number, width: number): string {
  const attributes = `x="${x * 10}" transform="scale(.1)" textLength="${width * 10}"`
  return `<text aria-hidden="true" ${attributes} y="150" fill="#010101" fill-opacity=".3">${text}</text>` +
    `<text ${attributes} y="140">${text}</text>`
}

/** A flat shields-style badge: a grey label and a coloured message, e.g. "claude code | live". */
export function renderBadge (label: string, message: string, color: string): string {
  const [labelText, messageText] = [escapeXml(label), escapeXml(message)]
  const labelWidth = textWidth(label) + PADDING
  const messageWidth = textWidth(message) + PADDING
  const width = labelWidth + messageWidth
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${labelText}: ${messageText}">` +
    `<title>${labelText}: ${messageText}</title>` +
    '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>' +
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${labelWidth}" height="20" fill="#555"/><rect x="${labelWidth}" width="${messageWidth}" height="20" fill="${color}"/>` +
    `<rect width="${width}" height="20" fill="url(#s)"/></g>` +
    '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">' +
    badgeText(labelText, labelWidth / 2, labelWidth - PADDING) +
    badgeText(messageText, labelWidth + messageWidth / 2, messageWidth - PADDING) +
    '</g></svg>'
}
