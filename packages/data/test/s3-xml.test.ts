import { describe, expect, it } from 'vitest'
import { isDataError } from '../src/errors.js'
import { decodeXmlText, parseXmlRequest, textOf } from '../src/s3/xml.js'

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isDataError(err) ? err.code : 'not a DataError'
  }
  return undefined
}

describe('XML request text', () => {
  it('decodes numeric character references as Go clients (rclone) send them', () => {
    const doc = parseXmlRequest(
      '<Delete><Object><Key>quoted &#34;name&#34; &#x22;&amp;+-é.txt</Key></Object></Delete>',
      'Delete',
    )
    const object = (doc.Object as Array<Record<string, unknown>>)[0] as Record<string, unknown>
    expect(textOf(object, 'Key')).toBe('quoted "name" "&+-é.txt')
  })

  it('decodes the five XML entities once, so an escaped reference stays literal', () => {
    expect(decodeXmlText('&lt;a&gt; &quot;b&quot; &apos;c&apos; &amp;#34;')).toBe('<a> "b" \'c\' &#34;')
    expect(decodeXmlText('no references')).toBe('no references')
    expect(decodeXmlText('&#x1F600;')).toBe('😀')
  })

  it('keeps CDATA literal, in order with the text around it (found by fuzzing)', () => {
    const doc = parseXmlRequest(
      '<Delete><Object><Key>a&amp;<![CDATA[x&amp;y<z>]]>&#34;</Key></Object></Delete>',
      'Delete',
    )
    const object = (doc.Object as Array<Record<string, unknown>>)[0] as Record<string, unknown>
    expect(textOf(object, 'Key')).toBe('a&x&amp;y<z>"')
    const withDoctypeText = parseXmlRequest(
      '<Delete><Object><Key><![CDATA[<!DOCTYPE x>]]></Key></Object></Delete>',
      'Delete',
    )
    const second = (withDoctypeText.Object as Array<Record<string, unknown>>)[0] as Record<string, unknown>
    expect(textOf(second, 'Key')).toBe('<!DOCTYPE x>')
    expect(code(() => parseXmlRequest('<!DOCTYPE d [<!ENTITY e "x">]><Delete/>', 'Delete'))).toBe(
      'MalformedXML',
    )
  })

  it('refuses unknown entities, unterminated references and code points that are not characters', () => {
    for (const bad of ['&nbsp;', '&#0;', '&#xD800;', '&#x110000;', '& b', '&#12']) {
      expect(
        code(() => decodeXmlText(bad)),
        bad,
      ).toBe('MalformedXML')
    }
  })
})
