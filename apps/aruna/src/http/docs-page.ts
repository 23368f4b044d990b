/**
 * The browsable reference at `/docs`: one self-contained HTML page rendered from the OpenAPI
 * document (no script, nothing fetched from a CDN), listing every operation with its parameters,
 * request body and answers, and linking the full document at `/openapi.json`.
 */

interface Operation {
  readonly summary?: string
  readonly tags?: readonly string[]
  readonly security?: readonly Record<string, readonly string[]>[]
  readonly parameters?: readonly { name: string; in: string; required?: boolean; description?: string }[]
  readonly requestBody?: { content?: Record<string, { schema?: unknown }> }
  readonly responses?: Record<string, { description?: string }>
}

interface Document {
  readonly info: { title: string; version: string; description?: string }
  readonly paths?: object
}

type PathItems = [string, Partial<Record<(typeof METHODS)[number], Operation>> | undefined][]

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

export function docsPage(doc: Document): string {
  const rows: string[] = []
  for (const [path, item] of (Object.entries(doc.paths ?? {}) as PathItems).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (!op) continue
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})${p.description ? ` — ${esc(p.description)}` : ''}</li>`,
        )
        .join('')
      const body = op.requestBody?.content ? Object.keys(op.requestBody.content).map(esc).join(', ') : ''
      const answers = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><code>${esc(status)}</code> ${esc(r.description ?? '')}</li>`)
        .join('')
      rows.push(
        `<section><h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h2>` +
          `<p>${esc(op.summary ?? '')}${op.security?.length ? ' <em>(realm token)</em>' : ''}</p>` +
          (params ? `<h3>Parameters</h3><ul>${params}</ul>` : '') +
          (body ? `<h3>Body</h3><p>${body}</p>` : '') +
          `<h3>Answers</h3><ul>${answers}</ul></section>`,
      )
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
section{border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1.1rem}h3{font-size:.9rem;margin:.5rem 0 .2rem}
.m{display:inline-block;min-width:4.5rem;font-family:monospace}.get{color:#06c}.post{color:#080}.delete{color:#b00}.put,.patch{color:#a60}</style>
</head><body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description ?? '')} The OpenAPI 3.1 document: <a href="/openapi.json">/openapi.json</a>.</p>
${rows.join('\n')}
</body></html>`
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
