#!/usr/bin/env node
// Marks version requirements of an ELF shared object as weak (VER_FLG_WEAK), in place.
//
//   node weaken-verneed.mjs FILE VERSION...     e.g.  fuzzer.node GLIBC_2.38 GLIBCXX_3.4.32
//
// Each VERSION is looked up among the Vernaux entries of .gnu.version_r (SHT_GNU_verneed) by its name
// in the linked string table, cross-checked against the entry's ELF hash, and its vna_flags gets
// VER_FLG_WEAK (0x2) OR-ed in. glibc's loader then only warns (with LD_DEBUG) instead of refusing to
// load the object when the library it names lacks that version. Idempotent: an entry that is already
// weak is left alone and the file is only written when something changed. Exits 1 (with a message)
// when the file is not an ELF object or a VERSION is not required by it.
import { readFileSync, writeFileSync } from 'node:fs'

const SHT_GNU_VERNEED = 0x6ffffffe
const VER_FLG_WEAK = 0x2

function fail(message) {
  console.error(`weaken-verneed: ${message}`)
  process.exit(1)
}

/** The System V ELF hash that vna_hash holds (the one in the ELF gABI, as glibc's _dl_elf_hash). */
function elfHash(name) {
  let h = 0
  for (const byte of Buffer.from(name, 'latin1')) {
    h = ((h << 4) + byte) >>> 0
    const g = h & 0xf0000000
    if (g !== 0) h ^= g >>> 24
    h = (h & ~g) >>> 0
  }
  return h
}

const [file, ...versions] = process.argv.slice(2)
if (!file || versions.length === 0) fail('usage: weaken-verneed.mjs FILE VERSION...')

const buf = readFileSync(file)
if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) fail(`${file} is not an ELF file`)
const is64 = buf[4] === 2
const le = buf[5] === 1
const u16 = (o) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
const word = (o) => (is64 ? Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)) : u32(o))
const setU16 = (o, v) => (le ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o))

// Section headers: e_shoff, e_shentsize, e_shnum.
const shoff = word(is64 ? 0x28 : 0x20)
const shentsize = u16(is64 ? 0x3a : 0x2e)
const shnum = u16(is64 ? 0x3c : 0x30)
const section = (i) => {
  const base = shoff + i * shentsize
  return {
    type: u32(base + 4),
    offset: word(base + (is64 ? 0x18 : 0x10)),
    size: word(base + (is64 ? 0x20 : 0x14)),
    link: u32(base + (is64 ? 0x28 : 0x18)),
  }
}
const sections = Array.from({ length: shnum }, (_, i) => section(i))
const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED)
if (!verneed) fail(`${file} has no .gnu.version_r section`)
const strtab = sections[verneed.link]
if (!strtab) fail(`${file}: .gnu.version_r links to a missing string table`)
const cstring = (off) => {
  const start = strtab.offset + off
  const end = buf.indexOf(0, start)
  return buf.toString('latin1', start, end < 0 ? start : end)
}

const wanted = new Set(versions)
const found = new Map() // version -> 'weakened' | 'already weak'
// Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32 (same in ELF32 and ELF64).
// Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
for (let vn = verneed.offset, guard = 0; guard < 1000; guard++) {
  const cnt = u16(vn + 2)
  const library = cstring(u32(vn + 4))
  for (let i = 0, aux = vn + u32(vn + 8); i < cnt; i++) {
    const name = cstring(u32(aux + 8))
    if (wanted.has(name)) {
      if (u32(aux) !== elfHash(name)) fail(`${file}: hash of ${name} (needed from ${library}) does not match`)
      const flags = u16(aux + 4)
      if (flags & VER_FLG_WEAK) found.set(name, `${library} ${name} already weak`)
      else {
        setU16(aux + 4, flags | VER_FLG_WEAK)
        found.set(name, `${library} ${name} made weak`)
      }
    }
    const next = u32(aux + 12)
    if (next === 0) break
    aux += next
  }
  const next = u32(vn + 12)
  if (next === 0) break
  vn += next
}

const missing = versions.filter((v) => !found.has(v))
if (missing.length > 0) fail(`${file} requires no version ${missing.join(', ')}`)
if ([...found.values()].some((s) => s.endsWith('made weak'))) writeFileSync(file, buf)
console.log(`weaken-verneed: ${[...found.values()].join('; ')}`)
