// Compiles store/chunk/gear.wat into store/chunk/gear-wasm.ts (the bytes, base64).
// Run after editing gear.wat: node scripts/build-gear-wasm.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import wabtInit from 'wabt'

const wat = new URL('../store/chunk/gear.wat', import.meta.url)
const wabt = await wabtInit()
const { buffer } = wabt.parseWat('gear.wat', readFileSync(wat, 'utf8'), { threads: true }).toBinary({})
const base64 = Buffer.from(buffer).toString('base64')
writeFileSync(
  new URL('../store/chunk/gear-wasm.ts', import.meta.url),
  `// Generated from gear.wat by scripts/build-gear-wasm.mjs; do not edit.\nexport const GEAR_WASM_BASE64 =\n  '${base64}'\n`,
)
console.log(`store/chunk/gear-wasm.ts: ${buffer.length} bytes of wasm`)
